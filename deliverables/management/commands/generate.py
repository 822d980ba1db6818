import json
import uuid

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from campaigns.serializers import CampaignBriefSerializer
from campaigns.services import campaign_generate
from creatives.serializers import CreativesBriefSerializer
from creatives.services import creatives_generate
from deliverables.envelope import build_envelope
from deliverables.selectors import run_wait

MODULES = {
    "campaigns": (CampaignBriefSerializer, campaign_generate),
    "creatives": (CreativesBriefSerializer, creatives_generate),
}


class _Request:
    """The serializers resolve brands through `request.user`."""

    def __init__(self, user):
        self.user = user


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class Command(BaseCommand):
    help = ("Generate a run from the command line and print its envelope, e.g. "
            "`generate campaigns --brand acme --name \"Q1 Launch\" --platforms linkedin,instagram --wait`.")

    def add_arguments(self, parser):
        parser.add_argument("module", choices=sorted(MODULES))
        parser.add_argument("--brand", required=True, help="Brand slug.")
        parser.add_argument("--user", default="", help="Requesting user (default: the first superuser or member).")
        parser.add_argument("--name", help="Campaign name (campaigns).")
        parser.add_argument("--product", help="Product (creatives).")
        parser.add_argument("--platforms", default="", help="Comma list, e.g. linkedin,instagram,email.")
        parser.add_argument("--objectives", default="", help="Comma list.")
        parser.add_argument("--budget", help="Budget in USD.")
        parser.add_argument("--days", type=int, help="Timeline in days.")
        parser.add_argument("--audience", default="")
        parser.add_argument("--message", default="", help="Key message (campaigns) or pitch (creatives).")
        parser.add_argument("--count", type=int, help="Number of ad creatives (creatives).")
        parser.add_argument("--with-images", action="store_true")
        parser.add_argument("--deliverables", default="", help="Comma list of kinds to generate (subset).")
        parser.add_argument("--wait", nargs="?", const=120, type=float, default=0,
                            help="Wait up to N seconds (default 120) for the run to end.")

    def handle(self, *args, **options):
        module = options["module"]
        user = self._user(options["user"], options["brand"])
        data = {"brand": options["brand"], "platforms": _csv(options["platforms"]),
                "deliverables": _csv(options["deliverables"])}
        if module == "campaigns":
            data.update(campaign_name=options["name"] or "", objectives=_csv(options["objectives"]),
                        budget=options["budget"], timeline_days=options["days"] or 30,
                        audience=options["audience"], key_message=options["message"])
        else:
            data.update(product=options["product"] or "", pitch=options["message"], count=options["count"] or 1,
                        with_images=options["with_images"])
        serializer_class, start = MODULES[module]
        serializer = serializer_class(data={k: v for k, v in data.items() if v is not None},
                                      context={"request": _Request(user)})
        if not serializer.is_valid():
            raise CommandError(f"Invalid brief: {json.dumps(serializer.errors)}")
        brief = dict(serializer.validated_data)
        brand = brief.pop("brand")
        campaign = brief.pop("campaign", None) if module == "creatives" else None
        kwargs = {"campaign": campaign} if module == "creatives" else {}
        run = start(brand=brand, user=user, brief=brief, trace_id=uuid.uuid4().hex, **kwargs)
        run = run_wait(run, options["wait"])
        self.stdout.write(json.dumps(build_envelope(run), indent=2, default=str))
        if options["wait"] and not run.is_terminal:
            self.stderr.write("The run is still in progress: is a worker running? (`make run` starts one.)")

    def _user(self, username: str, brand_slug: str):
        User = get_user_model()
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user named {username!r}.")
            return user
        user = (User.objects.filter(brands__slug=brand_slug).order_by("id").first()
                or User.objects.filter(is_superuser=True).order_by("id").first())
        if user is None:
            raise CommandError(f"No user belongs to brand {brand_slug!r}: run `manage.py seed_demo` or pass --user.")
        return user
