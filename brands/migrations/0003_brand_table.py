"""Every foreign key now points at brands.Brand: the table takes the app's name."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("brands", "0002_memberships_from_groups"),
        ("campaigns", "0003_brand_moves_to_brands"),
    ]

    operations = [migrations.AlterModelTable(name="brand", table=None)]
