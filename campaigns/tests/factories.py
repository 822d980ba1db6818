import factory

from brands.tests.factories import BrandFactory
from campaigns.models import Campaign


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    objectives = ["Awareness"]
    platforms = ["linkedin"]
