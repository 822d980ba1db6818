"""What each per-brand role may do (contract §3). Pages, the API, admin and the services all ask `may()`.

Capabilities are plain names so a refusal can say what was missing; superusers may do everything everywhere."""

from collections.abc import Mapping

from .models import Membership, Role

GENERATE, AMEND, SUBMIT, EXPORT, APPROVE, REJECT, EDIT_BRAND = (
    "generate",
    "amend",
    "submit",
    "export",
    "approve",
    "reject",
    "edit_brand",
)
MARKETER_CAPABILITIES = frozenset({GENERATE, AMEND, SUBMIT, EXPORT})
CAPABILITIES: Mapping[str, frozenset[str]] = {
    Role.MARKETER: MARKETER_CAPABILITIES,
    Role.MANAGER: MARKETER_CAPABILITIES | {APPROVE, REJECT, EDIT_BRAND},
}


def roles_of(user) -> dict[int, str]:
    """{brand id: role} of `user`, read once and cached on the user object for the request (as Django caches
    permissions). Anonymous users have none."""
    if not getattr(user, "is_authenticated", False):
        return {}
    if not hasattr(user, "_aicmo_roles"):
        user._aicmo_roles = dict(Membership.objects.filter(user=user).values_list("brand_id", "role"))
    return user._aicmo_roles


def role_in(user, brand_id: int) -> str | None:
    """The user's role in the brand, or None for a non-member (superusers count as managers)."""
    if getattr(user, "is_superuser", False) and getattr(user, "is_active", False):
        return Role.MANAGER
    return roles_of(user).get(brand_id)


def may(user, brand_id: int, capability: str) -> bool:
    """Whether `user` may do `capability` in the brand."""
    role = role_in(user, brand_id)
    return role is not None and capability in CAPABILITIES[role]


def may_anywhere(user, capability: str) -> bool:
    """Whether `user` may do `capability` in at least one brand (to show a queue or a menu entry)."""
    if getattr(user, "is_superuser", False) and getattr(user, "is_active", False):
        return True
    return any(capability in CAPABILITIES[role] for role in roles_of(user).values())
