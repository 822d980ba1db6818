from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from brands.models import Brand, Membership, Role

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
        website_url="https://acme-coffee.example",
        offer_url="https://acme-coffee.example/subscribe",
        primary_color="#6B3E26",
        secondary_color="#F2E8DC",
        font_family="Georgia, serif",
        image_style="warm natural-light photography, close-ups of beans and cups",
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
USERS = {  # username: ({brand: role}, is_staff)
    "marketer": ({"acme": Role.MARKETER}, False),
    "manager": ({"acme": Role.MANAGER}, True),
    "outsider": ({"globex": Role.MARKETER}, False),
    "agency": ({"globex": Role.MANAGER, "acme": Role.MARKETER}, True),
}


class Command(BaseCommand):
    help = (
        "Create the demo brands (acme, globex) and users marketer, manager (of acme), outsider (marketer of "
        "globex) and agency (manager of globex, marketer of acme), password $AICMO_DEMO_PASSWORD or "
        "demo-pass-123. Safe to run again."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        brands = {
            slug: Brand.objects.update_or_create(slug=slug, defaults=fields)[0] for slug, fields in BRANDS.items()
        }
        User = get_user_model()
        for username, (roles, is_staff) in USERS.items():
            user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
            user.set_password(settings.AICMO_DEMO_PASSWORD)
            user.is_staff = is_staff
            user.save()
            Membership.objects.filter(user=user).exclude(brand__slug__in=list(roles)).delete()
            for slug, role in roles.items():
                Membership.objects.update_or_create(user=user, brand=brands[slug], defaults={"role": role})
            summary = ", ".join(f"{role} of {slug}" for slug, role in roles.items())
            self.stdout.write(f"{'created' if created else 'updated'} user {username} ({summary})")
        self.stdout.write(self.style.SUCCESS("Demo data ready: log in as marketer, manager or agency."))
