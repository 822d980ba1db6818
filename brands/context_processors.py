"""What the navigation needs to know about the user's roles (read once per request, cached on the user)."""

from django.utils.functional import SimpleLazyObject

from .models import Role
from .roles import APPROVE, may_anywhere, roles_of


def roles(request) -> dict:
    user = getattr(request, "user", None)

    def label() -> str:
        held = set(roles_of(user).values())
        if getattr(user, "is_superuser", False) or held == {Role.MANAGER}:
            return "Manager"
        return "Manager · Marketer" if len(held) > 1 else "Marketer"

    return {
        "user_may_approve": SimpleLazyObject(lambda: may_anywhere(user, APPROVE)),
        "user_role_label": SimpleLazyObject(label),
    }
