"""The thread an ASGI request holds: lent from a pool, and let go before a long wait or stream.

Under ASGI, Django runs a request's thread-sensitive sync parts (`sync_to_async`'s default: the `request_started`
signal's `close_old_connections`, sync middleware, a sync view, `response.close()`) on a thread of the request's
own (asgiref's ThreadSensitiveContext). Django's handler starts a new thread for each request and another to join
it at the end: two thread starts per request, a quarter of the web process's CPU while a thousand studio answers
ended. `ASGIHandler` here lends each request a thread from `RequestThreads` instead (asgiref's own way: a
context given an executor that the caller owns) and takes it back when the response has been sent.

For a `?wait=` or a studio stream open for minutes, that thread would sit idle: `release_request_thread()` closes
its database connections and gives it back early; sync work after it (the response's close) borrows a thread
again, briefly."""

import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor

from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core.handlers import asgi
from django.db import connections


class RequestThreads:
    """Single-thread executors (asgiref: one call at a time, on one thread) lent to requests and taken back. A
    burst starts more threads; past `AICMO_REQUEST_THREADS_KEPT` idle ones, a thread given back ends."""

    def __init__(self):
        self._idle: list[ThreadPoolExecutor] = []
        self._lock = threading.Lock()  # lent on the event loop, taken back from wherever a request ends

    def lend(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="aicmo-request")

    def take_back(self, executor: ThreadPoolExecutor) -> None:
        with self._lock:
            if len(self._idle) < settings.AICMO_REQUEST_THREADS_KEPT:
                self._idle.append(executor)
                return
        executor.shutdown(wait=False)  # its thread ends once idle; nobody waits for it


REQUEST_THREADS = RequestThreads()


class RequestThread(Executor):
    """One request's thread: borrowed from the pool at its first sync call, given back when the request ends or
    lets it go (`release_request_thread`)."""

    def __init__(self, pool: RequestThreads):
        self.pool = pool
        self._borrowed: ThreadPoolExecutor | None = None

    def submit(self, fn, /, *args, **kwargs) -> Future:
        if self._borrowed is None:
            self._borrowed = self.pool.lend()
        return self._borrowed.submit(fn, *args, **kwargs)

    def give_back(self) -> None:
        borrowed, self._borrowed = self._borrowed, None
        if borrowed is not None:
            self.pool.take_back(borrowed)


class ASGIHandler(asgi.ASGIHandler):
    """Django's ASGI handler, each request's sync parts on a lent thread (`RequestThreads`) instead of a new one."""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        thread = RequestThread(REQUEST_THREADS)
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        finally:
            thread.give_back()


async def release_request_thread() -> None:
    """Give the request's thread back, its database connections closed (where the sync parts run on the caller's
    thread, as under the test client, there is nothing to release)."""
    context = SyncToAsync.thread_sensitive_context.get(None)
    executor = SyncToAsync.context_to_thread_executor.get(context) if context is not None else None
    if executor is None:
        return
    await sync_to_async(connections.close_all)()
    if isinstance(executor, RequestThread):
        executor.give_back()
    else:  # Django's own handler (its thread is the context's): let it go
        SyncToAsync.context_to_thread_executor.pop(context, None)
        executor.shutdown(wait=False)
