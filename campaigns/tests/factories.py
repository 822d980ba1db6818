import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from campaigns.models import Brand, Campaign


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    industry = "Specialty coffee"
    audience = "Urban professionals"
    tone_of_voice = "Warm and knowledgeable"
    languages = ["en"]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-123456")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        """`UserFactory(role="Managers", brands=[brand])`."""
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
        self.save()

    @factory.post_generation
    def brands(self, create, extracted, **kwargs):
        for brand in extracted or []:
            brand.members.add(self)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    objectives = ["Awareness"]
    platforms = ["linkedin"]
