import factory
from django.contrib.auth import get_user_model

from brands.models import Brand, Membership, Role


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
    """`UserFactory(role="manager", brands=[brand])` makes the user a manager of each brand listed;
    `UserFactory(roles={acme: "marketer", globex: "manager"})` gives a role per brand."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-123456")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        self._factory_role = extracted or Role.MARKETER

    @factory.post_generation
    def brands(self, create, extracted, **kwargs):
        self.save()
        for brand in extracted or []:
            Membership.objects.update_or_create(user=self, brand=brand, defaults={"role": self._factory_role})

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for brand, role in (extracted or {}).items():
            Membership.objects.update_or_create(user=self, brand=brand, defaults={"role": role})
