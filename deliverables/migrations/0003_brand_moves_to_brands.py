"""Brand moved to the brands app: point the foreign keys there (same table, so state only). Approval is a
per-brand role now, so the global `approve_deliverable` permission goes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("deliverables", "0002_roles"),
        ("brands", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="run",
                    name="brand",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="runs", to="brands.brand"),
                ),
                migrations.AlterField(
                    model_name="asset",
                    name="brand",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="assets", to="brands.brand"),
                ),
                migrations.AlterField(
                    model_name="providercall",
                    name="brand",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="brands.brand"),
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelOptions(name="deliverable", options={"ordering": ["run", "position"]}),
    ]
