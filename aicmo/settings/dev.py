"""The `make run` shape: SQLite, a file broker and the offline provider unless keys are set."""

from .base import *  # noqa: F403
