"""Brand and campaign admin: members edited side by side, and each user sees only their brands."""

import pytest

from brands.tests.factories import UserFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_a_manager_sees_only_their_brands_and_campaigns(client, manager, brand, other_brand):
    CampaignFactory(brand=brand, name="Acme spring")
    CampaignFactory(brand=other_brand, name="Globex spring")
    client.force_login(manager)

    brands = client.get("/admin/brands/brand/")
    campaigns = client.get("/admin/campaigns/campaign/")

    assert [b.slug for b in brands.context["cl"].result_list] == ["acme"]
    assert brands.context["cl"].result_list[0].member_total == 1
    assert [c.name for c in campaigns.context["cl"].result_list] == ["Acme spring"]
    assert client.get(f"/admin/brands/brand/{other_brand.pk}/change/").status_code == 302  # not found


def test_a_manager_adds_a_campaign_only_for_their_brand(client, manager, brand, other_brand):
    client.force_login(manager)

    form = client.get("/admin/campaigns/campaign/add/")
    assert [b.slug for b in form.context["adminform"].form.fields["brand"].queryset] == ["acme"]

    refused = client.post(
        "/admin/campaigns/campaign/add/",
        {"brand": other_brand.pk, "name": "Sneaky", "timeline_days": 30, "objectives": "[]", "platforms": "[]"},
    )
    assert refused.status_code == 200 and "brand" in refused.context["adminform"].form.errors
    client.post(
        "/admin/campaigns/campaign/add/",
        {"brand": brand.pk, "name": "Autumn", "timeline_days": 30, "objectives": "[]", "platforms": "[]"},
    )
    assert list(Campaign.objects.values_list("name", "brand__slug", "created_by__username")) == [
        ("Autumn", "acme", "manager")
    ]


def test_a_superuser_edits_members_and_their_roles_inline(client, brand, other_brand, marketer):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)

    page = client.get(f"/admin/brands/brand/{brand.pk}/change/")

    assert page.status_code == 200
    assert "Memberships" in page.content.decode()  # the members' roles, edited inline
    assert client.get("/admin/brands/brand/").context["cl"].result_count == 2
