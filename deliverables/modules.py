"""The registry of brief modules. Campaigns and creatives sit above deliverables and plan their runs through
it: each registers itself when Django starts (its AppConfig.ready), so deliverables' operator commands can
start any module's run without importing the apps above it."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .models import Run


@dataclass(frozen=True)
class BriefModule:
    name: str  # "campaigns", "creatives": Run.module
    serializer_class: type  # validates a brief (with its `brand`) for the request's user
    start: Callable[..., Run]  # start(*, brief, user, trace_id) -> Run, brief as the serializer validated it
    brief_from_options: Callable[[Mapping[str, Any]], dict]  # `manage.py generate` options -> brief data


_MODULES: dict[str, BriefModule] = {}


def module_register(module: BriefModule) -> None:
    _MODULES[module.name] = module


def brief_modules() -> Mapping[str, BriefModule]:
    return dict(_MODULES)


def split_csv(value: str | None) -> list[str]:
    """'linkedin, email' -> ['linkedin', 'email'] (comma lists of the command line)."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]
