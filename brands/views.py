"""The brand's logo, served like assets: only to members of the brand (others: 404)."""

import mimetypes

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404

from .selectors import brands_for


@login_required
def brand_logo(request, slug):
    brand = brands_for(request.user).filter(slug=slug).first()
    if brand is None or not brand.logo:
        raise Http404
    content_type = mimetypes.guess_type(brand.logo.name)[0] or "application/octet-stream"
    response = FileResponse(brand.logo.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response
