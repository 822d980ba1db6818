"""Brand moves here from campaigns (its table is kept and renamed in 0003), and Membership arrives.

The move is state-only: `campaigns_brand` stays where it is until every foreign key in the other apps points
at `brands.Brand`, so existing data is untouched."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("campaigns", "0002_alter_brand_languages"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Brand",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=120)),
                        ("slug", models.SlugField(max_length=60, unique=True)),
                        ("industry", models.CharField(blank=True, max_length=120)),
                        ("audience", models.TextField(blank=True, help_text="Who the brand speaks to.")),
                        ("tone_of_voice", models.CharField(blank=True, max_length=240)),
                        ("voice_examples", models.JSONField(blank=True, default=list, help_text="Short lines that sound like the brand.")),
                        ("banned_words", models.JSONField(blank=True, default=list)),
                        ("required_disclaimers", models.JSONField(blank=True, default=list)),
                        ("languages", models.JSONField(blank=True, default=list, help_text='Language codes, the first is the default, e.g. ["en"].')),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={"ordering": ["name"], "db_table": "campaigns_brand"},
                ),
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name="brand",
            name="allow_self_approval",
            field=models.BooleanField(default=False, help_text="Let a manager approve a revision they wrote themselves."),
        ),
        migrations.CreateModel(
            name="Membership",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("role", models.CharField(choices=[("marketer", "Marketer"), ("manager", "Manager")], default="marketer", max_length=20)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("brand", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="memberships", to="brands.brand")),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="memberships", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ["brand", "user"],
                "constraints": [models.UniqueConstraint(fields=("user", "brand"), name="one_membership_per_brand")],
            },
        ),
        migrations.AddField(
            model_name="brand",
            name="members",
            field=models.ManyToManyField(blank=True, related_name="brands", through="brands.Membership", to=settings.AUTH_USER_MODEL),
        ),
    ]
