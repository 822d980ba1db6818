"""Services own every write of the deliverables app. Generation is four steps, one module each: planning (a brief
becomes a run of slots), dispatch (one task per slot), the slot worker (the task body) and settling (the run's
outcome); the review workflow, exports, retries and recovery sit beside them."""

from .assets import asset_create
from .dispatch import run_add_warning, run_dispatch
from .exports import ExportFile, run_export
from .planning import Slot, nothing_to_generate, require_generate_permission, run_create
from .provider_calls import provider_call_save
from .revisions import revision_create
from .settle import run_finalize, run_totals
from .slot_worker import deliverable_generate
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
    "asset_create",
    "deliverable_actions",
    "deliverable_amend",
    "deliverable_approve",
    "deliverable_generate",
    "deliverable_permission_check",
    "deliverable_reject",
    "deliverable_submit",
    "nothing_to_generate",
    "provider_call_save",
    "require_generate_permission",
    "revision_create",
    "run_add_warning",
    "run_create",
    "run_dispatch",
    "run_export",
    "run_finalize",
    "run_totals",
]
