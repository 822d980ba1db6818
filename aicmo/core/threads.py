"""The thread an ASGI request holds, and letting it go before a long wait or stream.

Under ASGI, Django runs a request's thread-sensitive sync parts (`sync_to_async`'s default: the `request_started`
signal's `close_old_connections`, sync middleware, a sync view) on a thread of the request's own (asgiref's
ThreadSensitiveContext), created at the first such call and kept until the response has been sent. For a
`?wait=` or a studio stream open for minutes, that is an idle OS thread per open request (a thousand streams: a
thousand threads, and their GIL hand-offs slow the event loop). `release_request_thread()` closes that thread's
database connections and lets it go; sync work after it gets a fresh thread, briefly."""

from asgiref.sync import SyncToAsync, sync_to_async
from django.db import connections


async def release_request_thread() -> None:
    """Let the request's sync thread go (where the sync parts run on the caller's thread, as under the test
    client, there is nothing to release)."""
    context = SyncToAsync.thread_sensitive_context.get(None)
    if context is None or context not in SyncToAsync.context_to_thread_executor:
        return
    await sync_to_async(connections.close_all)()
    executor = SyncToAsync.context_to_thread_executor.pop(context, None)
    if executor is not None:
        executor.shutdown(wait=False)
