"""Groups Marketers and Managers (contract §3). Managers also hold `deliverables.approve_deliverable`."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MARKETER_PERMISSIONS = [
    ("campaigns", "view_brand"), ("campaigns", "view_campaign"), ("campaigns", "add_campaign"),
    ("deliverables", "view_run"), ("deliverables", "add_run"),
    ("deliverables", "view_deliverable"), ("deliverables", "change_deliverable"),
    ("deliverables", "view_revision"), ("deliverables", "view_asset"), ("deliverables", "view_auditevent"),
]
MANAGER_EXTRA = [("deliverables", "approve_deliverable"), ("deliverables", "view_providercall")]


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():  # permissions are normally made after migrate: make them now
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(pairs):
        return [Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in pairs]

    marketers, _ = Group.objects.get_or_create(name="Marketers")
    marketers.permissions.add(*permissions(MARKETER_PERMISSIONS))
    managers, _ = Group.objects.get_or_create(name="Managers")
    managers.permissions.add(*permissions(MARKETER_PERMISSIONS + MANAGER_EXTRA))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Marketers", "Managers"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("deliverables", "0001_initial"),
        ("campaigns", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_roles, remove_roles)]
