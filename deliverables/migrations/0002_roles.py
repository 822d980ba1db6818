"""Groups Marketers and Managers (contract §3). Managers also hold `deliverables.approve_deliverable`."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from deliverables.roles import ROLES, ensure_roles


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():  # permissions are normally made after migrate: make them now
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    ensure_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("deliverables", "0001_initial"),
        ("campaigns", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_roles, remove_roles)]
