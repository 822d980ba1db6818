"""The `make run` shape: SQLite, the embedded Redis server (aicmo/devserver.py) and the offline provider unless
keys are set."""

from .base import *  # noqa: F403
