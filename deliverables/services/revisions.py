"""The one writer of revisions: generation, amends, the studio and the benchmarks' seed all save text here, so
every revision gets its quality report computed from its own text (never copied from an older one)."""

from collections.abc import Mapping, Sequence
from typing import Any

from ..models import Deliverable, Revision
from ..quality import evaluate

TITLE_MAX = 240


def revision_create(
    *,
    deliverable: Deliverable,
    version: int,
    title: str,
    content_markdown: str,
    hashtags: Sequence[str] = (),
    structured: Mapping[str, Any] | None = None,
    brand_kit: Mapping[str, Any],
    author=None,
    provider: str = "",
    model: str = "",
    note: str = "",
) -> Revision:
    """Save version `version` of the deliverable's text with its quality report. The caller moves the
    deliverable to that version in the same transaction (a conditional update), so the unique
    (deliverable, version) constraint turns a lost race into an IntegrityError rather than two texts."""
    structured = dict(structured or {})
    title = title[:TITLE_MAX]
    quality = evaluate(
        kind=deliverable.kind,
        title=title,
        content_markdown=content_markdown,
        hashtags=list(hashtags),
        structured=structured,
        brand=brand_kit,
    )
    return Revision.objects.create(
        deliverable_id=deliverable.pk,
        version=version,
        title=title,
        content_markdown=content_markdown,
        hashtags=list(hashtags),
        structured=structured,
        author=author if getattr(author, "is_authenticated", False) else None,
        provider=provider,
        model=model,
        note=note,
        quality=quality,
    )
