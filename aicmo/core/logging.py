"""Every log record carries the current trace id and run id (empty when there is none)."""

import logging

from .trace import run_id_var, trace_id_var


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "trace_id", None):
            record.trace_id = trace_id_var.get()
        if not getattr(record, "run_id", None):
            record.run_id = run_id_var.get()
        return True
