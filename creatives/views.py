"""Pages of the creatives module: the ad-creative brief (the chat studio lives at /studio/)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from aicmo.core.errors import ApplicationError

from .forms import CreativesBriefForm
from .services import creatives_generate


@login_required
def creatives_new(request):
    form = CreativesBriefForm(request.POST or None, request=request)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            brief = dict(form.brief)
            brand = brief.pop("brand")
            campaign = brief.pop("campaign", None)
            try:
                run = creatives_generate(
                    brand=brand, user=request.user, brief=brief, trace_id=request.trace_id, campaign=campaign
                )
            except ApplicationError as error:  # e.g. nothing to generate for this brief, or no permission
                form.add_error(None, error.message)
                status = error.http_status
            else:
                return redirect("run-detail", run_id=run.run_id)
        return render(request, "creatives/creatives_form.html", {"form": form}, status=status)
    return render(request, "creatives/creatives_form.html", {"form": form})
