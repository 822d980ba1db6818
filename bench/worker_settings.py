"""The product's settings plus the worker fix proposed in docs/benchmarks.md, for the "after" figures only.

Celery's Django fixup closes the database connection before and after every task unless `CELERY_DB_REUSE_MAX`
is set, so every task opened a new PostgreSQL connection (a new server process: several ms of CPU on each
side). With it set, a pool child keeps its connection for that many tasks.
"""

from aicmo.settings.dev import *  # noqa: F403

CELERY_DB_REUSE_MAX = 1000
