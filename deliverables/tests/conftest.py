"""Fixtures of the deliverables tests."""

import pytest


@pytest.fixture
def rewrites_inline(monkeypatch, run_tasks_inline):
    """Run rewrite tasks in-process right after commit, as `run_tasks_inline` does for generation. Yields the
    same context manager (it runs both kinds of task)."""
    from deliverables import tasks

    monkeypatch.setattr(
        tasks.rewrite_deliverable, "apply_async", lambda args, **kwargs: tasks.rewrite_deliverable.run(*args)
    )
    return run_tasks_inline
