"""The two roles of contract §3. Created by a data migration; `ensure_roles` is safe to call again (tests
that flush the database call it, and so may operators)."""

MARKETER_PERMISSIONS = [
    ("campaigns", "view_brand"),
    ("campaigns", "view_campaign"),
    ("campaigns", "add_campaign"),
    ("deliverables", "view_run"),
    ("deliverables", "add_run"),
    ("deliverables", "view_deliverable"),
    ("deliverables", "change_deliverable"),
    ("deliverables", "view_revision"),
    ("deliverables", "view_asset"),
    ("deliverables", "view_auditevent"),
]
MANAGER_PERMISSIONS = [
    *MARKETER_PERMISSIONS,
    ("deliverables", "approve_deliverable"),
    ("deliverables", "view_providercall"),
]
ROLES = {"Marketers": MARKETER_PERMISSIONS, "Managers": MANAGER_PERMISSIONS}


def ensure_roles(group_model=None, permission_model=None) -> None:
    """Create the groups with their permissions. Takes the models so a migration can pass historical ones."""
    if group_model is None:
        from django.contrib.auth.models import Group as group_model
        from django.contrib.auth.models import Permission as permission_model
    for name, pairs in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.add(
            *[permission_model.objects.get(content_type__app_label=app, codename=codename) for app, codename in pairs]
        )
