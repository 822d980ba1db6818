"""Once created the global groups Marketers and Managers. Roles are per-brand memberships now (brands app):
brands/0002 maps databases that still have the groups, so on a new database this step does nothing."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("deliverables", "0001_initial"),
        ("campaigns", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
