"""Brand moved to the brands app: point the foreign key there (same table, so state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("creatives", "0001_initial"),
        ("brands", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="studiothread",
                    name="brand",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="studio_threads", to="brands.brand"),
                ),
            ],
            database_operations=[],
        ),
    ]
