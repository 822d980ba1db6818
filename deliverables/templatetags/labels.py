"""Labels of the deliverables registry for pages: kinds, platforms and runs as a person names them."""

from django import template

from ..kinds import KINDS
from ..platforms import EMAIL_CHANNEL, PLATFORMS
from ..provenance import provenance_of

register = template.Library()


@register.filter
def platform_label(key) -> str:
    if key == EMAIL_CHANNEL:
        return "Email"
    platform = PLATFORMS.get(key or "")
    return platform.label if platform else (key or "")


@register.filter
def platform_labels(keys) -> str:
    return ", ".join(platform_label(key) for key in keys or [])


@register.filter
def kind_label(kind: str) -> str:
    spec = KINDS.get(kind)
    return spec.label if spec else kind.replace("_", " ").capitalize()


@register.filter
def run_title(run) -> str:
    """What a person calls a run: a creatives run its product (a campaign has many), else its campaign, else the
    product or campaign name of its brief, else its module."""
    brief = (run.input_snapshot or {}).get("brief") or {}
    if run.module == "creatives" and brief.get("product"):
        return brief["product"]
    if run.campaign_id and run.campaign:
        return run.campaign.name
    return brief.get("product") or brief.get("campaign_name") or f"{run.module.capitalize()} run"


@register.filter
def provenance(deliverable):
    """Who wrote it: provider, model, template or not, and the editor (deliverables.provenance)."""
    return provenance_of(deliverable)
