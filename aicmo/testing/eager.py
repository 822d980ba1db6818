"""Running a Celery task in-process the way Celery's eager mode does, for tests."""


def run_eagerly(task, args):
    """Run `task` with `Task.apply` (Celery's eager mode): its retries run too, at once (the countdown is not
    slept), each with `request.retries` one higher, so a test exercises Celery's own retry machinery
    (`autoretry_for`, `max_retries`). A task that ends in failure raises here instead of being lost in its
    result."""
    result = task.apply(args=args)
    if result.failed():
        raise result.result
    return result
