"""Services own every write of the deliverables app: generation, the review workflow, exports."""

from .generation import Slot, deliverable_generate, run_create, run_dispatch, run_finalize, run_totals

__all__ = ["Slot", "deliverable_generate", "run_create", "run_dispatch", "run_finalize", "run_totals"]
