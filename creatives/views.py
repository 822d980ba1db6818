"""Pages of the creatives module: the ad-creative brief (the chat studio lives at /studio/)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .forms import CreativesBriefForm
from .services import creatives_generate


@login_required
def creatives_new(request):
    form = CreativesBriefForm(request.POST or None, request=request)
    if request.method == "POST":
        if form.is_valid():
            brief = dict(form.brief)
            brand = brief.pop("brand")
            campaign = brief.pop("campaign", None)
            run = creatives_generate(
                brand=brand, user=request.user, brief=brief, trace_id=request.trace_id, campaign=campaign
            )
            return redirect("run-detail", run_id=run.run_id)
        return render(request, "creatives/creatives_form.html", {"form": form}, status=400)
    return render(request, "creatives/creatives_form.html", {"form": form})
