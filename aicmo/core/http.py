"""Form endpoints of the pages. A form posts to an action URL (`/deliverables/<id>/reject`); when the browser
ends up there without a POST (the address bar after an error page, a reload, a pasted link), the URL must not
answer an empty 405: it sends the browser to the page the form lives on."""

from collections.abc import Callable
from functools import wraps

from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect


def post_only(page: str, *url_kwargs: str) -> Callable:
    """Like `require_POST`, except that GET and HEAD redirect to the `page` URL name, reversed with the view's
    `url_kwargs` (e.g. `post_only("deliverable-detail", "pk")`)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method == "POST":
                return view(request, *args, **kwargs)
            if request.method in ("GET", "HEAD"):
                return redirect(page, **{name: kwargs[name] for name in url_kwargs})
            return HttpResponseNotAllowed(["POST"])

        return wrapped

    return decorator
