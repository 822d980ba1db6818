"""Who wrote a piece: the provider and model of its current text, and the person who edited it, if anyone.
One reading for the cards, the approvals queue, the studio and every export, so an offline template never
passes for model copy."""

from dataclasses import dataclass

OFFLINE = "offline"


@dataclass(frozen=True)
class Provenance:
    provider: str  # "" when unknown (a slot not generated yet)
    model: str
    edited_by: str = ""  # username of the person whose edit is the current text

    @property
    def is_template(self) -> bool:
        return self.provider == OFFLINE

    @property
    def label(self) -> str:
        """'openai · gpt-4.1-mini', 'offline · offline-templates-v1 (template draft, no AI model)', plus
        ', edited by marketer' after a person's amend."""
        if not self.provider:
            return "unknown provider"
        text = f"{self.provider} · {self.model}" if self.model else self.provider
        if self.is_template:
            text += " (template draft, no AI model)"
        return text + (f", edited by {self.edited_by}" if self.edited_by else "")

    def __str__(self) -> str:
        return self.label


def provenance_of(deliverable) -> Provenance:
    """The provider and model that wrote the deliverable (its current revision's, else its generation's), and
    the editor when the current revision is a person's amend."""
    revision = getattr(deliverable, "current_revision", None)
    metadata = deliverable.metadata or {}
    if revision is not None and revision.provider:  # a provider wrote this revision (generation or rewrite)
        provider, model = revision.provider, revision.model
    else:  # a person's amend, or no revision yet: the text started as the generation's
        provider, model = metadata.get("provider") or "", metadata.get("model") or ""
    author = revision.author if revision is not None and revision.author_id else None
    return Provenance(
        provider="" if provider == "none" else provider,
        model=model,
        edited_by=author.get_username() if author is not None else "",
    )
