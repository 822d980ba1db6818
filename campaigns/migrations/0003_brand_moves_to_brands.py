"""Brand now lives in the brands app (brands/0001): drop the old members table (brands/0002 copied it into
memberships) and forget the model here without touching its table."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_alter_brand_languages"),
        ("brands", "0002_memberships_from_groups"),
        ("deliverables", "0003_brand_moves_to_brands"),
        ("creatives", "0002_brand_moves_to_brands"),
    ]

    operations = [
        migrations.RemoveField(model_name="brand", name="members"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="campaign",
                    name="brand",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="campaigns", to="brands.brand"),
                ),
                migrations.DeleteModel(name="Brand"),
            ],
            database_operations=[],
        ),
    ]
