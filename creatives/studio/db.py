"""Where the async ChatKit server runs its ORM work: a small pool of threads of its own.

Under ASGI, `sync_to_async` (thread-sensitive) runs each request's sync code in a thread of that request, and
the database connection it opens lives as long as the request: for a stream open for minutes, a connection per
open stream (PostgreSQL refuses the 101st). Here every studio query runs on `AICMO_STUDIO_DB_THREADS`
threads shared by all streams, each keeping one connection, so a thousand open streams hold a handful."""

import asyncio
import contextvars
import functools
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connections

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=settings.AICMO_STUDIO_DB_THREADS, thread_name_prefix="studio-db")
        return _executor


async def run_db(fn, /, *args, **kwargs):
    """`fn(*args, **kwargs)` on the studio's database threads (the caller's context variables, e.g. the
    trace id, come along)."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_pool(), call)


def close_connections() -> None:
    """Close every pool thread's database connection (tests, before the test database is dropped)."""
    if _executor is None:
        return
    workers = settings.AICMO_STUDIO_DB_THREADS
    barrier = threading.Barrier(workers)

    def close():
        barrier.wait(timeout=10)  # each worker takes exactly one of these
        connections.close_all()

    for future in [_executor.submit(close) for _ in range(workers)]:
        future.result(timeout=15)
