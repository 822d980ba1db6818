from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from campaigns.models import Brand

BRANDS = {
    "acme": dict(
        name="Acme Coffee Roasters",
        industry="Specialty coffee",
        audience="Urban professionals aged 25–45 who care where their coffee comes from",
        tone_of_voice="Warm, knowledgeable, a little playful; never snobbish",
        voice_examples=["Good coffee is a small daily luxury.", "From farm to cup, we know every step."],
        banned_words=["cheap", "guaranteed"],
        required_disclaimers=[],
        languages=["en"],
    ),
    "globex": dict(
        name="Globex Corporation",
        industry="Industrial software",
        audience="Operations leaders at mid-size manufacturers",
        tone_of_voice="Clear, confident, practical",
        voice_examples=["Less downtime, more output."],
        banned_words=[],
        required_disclaimers=[],
        languages=["en"],
    ),
}
USERS = [  # (username, group, brands, is_staff)
    ("marketer", "Marketers", ["acme"], False),
    ("manager", "Managers", ["acme"], True),
    ("outsider", "Marketers", ["globex"], False),
]


class Command(BaseCommand):
    help = (
        "Create the demo brands (acme, globex) and users marketer, manager, outsider "
        "(password $AICMO_DEMO_PASSWORD or demo-pass-123). Safe to run again."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        brands = {
            slug: Brand.objects.update_or_create(slug=slug, defaults=fields)[0] for slug, fields in BRANDS.items()
        }
        User = get_user_model()
        for username, group, brand_slugs, is_staff in USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
            user.set_password(settings.AICMO_DEMO_PASSWORD)
            user.is_staff = is_staff
            user.save()
            user.groups.set([Group.objects.get(name=group)])
            user.brands.set([brands[slug] for slug in brand_slugs])
            self.stdout.write(
                f"{'created' if created else 'updated'} user {username} ({group}: {', '.join(brand_slugs)})"
            )
        self.stdout.write(self.style.SUCCESS("Demo data ready: log in as marketer or manager."))
