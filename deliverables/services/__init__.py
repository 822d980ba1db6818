"""Services own every write of the deliverables app: generation, the review workflow, exports."""

from .exports import ExportFile, run_export
from .generation import Slot, deliverable_generate, run_create, run_dispatch, run_finalize, run_totals
from .workflow import (
    deliverable_actions,
    deliverable_amend,
    deliverable_approve,
    deliverable_permission_check,
    deliverable_reject,
    deliverable_submit,
)

__all__ = [
    "ExportFile",
    "Slot",
    "deliverable_actions",
    "deliverable_amend",
    "deliverable_approve",
    "deliverable_generate",
    "deliverable_permission_check",
    "deliverable_reject",
    "deliverable_submit",
    "run_create",
    "run_dispatch",
    "run_export",
    "run_finalize",
    "run_totals",
]
