"""Today's global groups become per-brand roles: a member of a brand who was in "Managers" manages it, any
other member is its marketer. The two groups are then removed (brand access is memberships only)."""

from django.db import migrations

OLD_GROUPS = ("Marketers", "Managers")


def groups_to_memberships(apps, schema_editor):
    OldBrand = apps.get_model("campaigns", "Brand")  # still holds the old `members` relation at this point
    Membership = apps.get_model("brands", "Membership")
    Group = apps.get_model("auth", "Group")
    managers = set(Group.objects.filter(name="Managers").values_list("user__id", flat=True))
    Membership.objects.bulk_create(
        [
            Membership(brand_id=row.brand_id, user_id=row.user_id, role="manager" if row.user_id in managers else "marketer")
            for row in OldBrand.members.through.objects.all()
        ],
        ignore_conflicts=True,
    )
    Group.objects.filter(name__in=OLD_GROUPS).delete()


def memberships_to_groups(apps, schema_editor):
    OldBrand = apps.get_model("campaigns", "Brand")
    Membership = apps.get_model("brands", "Membership")
    Group = apps.get_model("auth", "Group")
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in OLD_GROUPS}
    for membership in Membership.objects.all():
        OldBrand.members.through.objects.get_or_create(brand_id=membership.brand_id, user_id=membership.user_id)
        groups["Managers" if membership.role == "manager" else "Marketers"].user_set.add(membership.user_id)


class Migration(migrations.Migration):
    dependencies = [
        ("brands", "0001_initial"),
        ("deliverables", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(groups_to_memberships, memberships_to_groups)]
