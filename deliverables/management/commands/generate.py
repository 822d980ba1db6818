import json
import uuid

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from aicmo.core.errors import ApplicationError
from deliverables.envelope import build_envelope
from deliverables.modules import brief_modules, split_csv
from deliverables.selectors import run_wait


class _Request:
    """The serializers resolve brands through `request.user`."""

    def __init__(self, user):
        self.user = user


class Command(BaseCommand):
    help = (
        "Generate a run from the command line and print its envelope (JSON), e.g. "
        '`generate campaigns --brand acme --name "Q1 Launch" --platforms linkedin,instagram --wait` or '
        '`generate creatives --brand acme --product "Cold brew" --count 2 --with-images --wait 60`. '
        "Exit 0: the run succeeded or is partial (or was started, without --wait); 1: invalid brief, user or "
        "brand; 2: the run failed; 3: --wait elapsed with the run still in progress (is a worker running?)."
    )

    def add_arguments(self, parser):
        parser.add_argument("module", choices=sorted(brief_modules()))
        parser.add_argument("--brand", default="", help="Brand slug (default: the --user's only brand).")
        parser.add_argument(
            "--user", default="", help="Requesting user (default: the brand's first member, else the first superuser)."
        )
        parser.add_argument("--name", help="Campaign name (campaigns).")
        parser.add_argument("--product", help="Product (creatives).")
        parser.add_argument("--platforms", default="", help="Comma list, e.g. linkedin,instagram,email.")
        parser.add_argument("--objectives", default="", help="Comma list.")
        parser.add_argument("--budget", help="Budget in USD.")
        parser.add_argument("--days", type=int, help="Timeline in days.")
        parser.add_argument("--audience", default="")
        parser.add_argument("--message", default="", help="Key message (campaigns) or pitch (creatives).")
        parser.add_argument("--count", type=int, help="Number of ad creatives (creatives).")
        parser.add_argument("--with-images", action="store_true", help="Also generate an image per ad (creatives).")
        parser.add_argument("--tone", default="", help="Tone (creatives).")
        parser.add_argument("--style", default="", help="Visual style (creatives).")
        parser.add_argument("--campaign", type=int, help="Id of a campaign of the brand (creatives).")
        parser.add_argument("--deliverables", default="", help="Comma list of kinds to generate (subset).")
        parser.add_argument(
            "--wait",
            nargs="?",
            const=120,
            type=float,
            default=0,
            help="Wait up to N seconds (default 120) for the run to end.",
        )

    def handle(self, *args, **options):
        module = options["module"]
        if not options["user"] and not options["brand"]:
            raise CommandError("Name the brand (--brand SLUG) or the user (--user NAME).")
        user = self._user(options["user"], options["brand"])
        data = {
            "brand": options["brand"] or None,
            "platforms": split_csv(options["platforms"]),
            "deliverables": split_csv(options["deliverables"]),
        }
        entry = brief_modules()[module]
        data.update(entry.brief_from_options(options))
        serializer = entry.serializer_class(
            data={k: v for k, v in data.items() if v is not None}, context={"request": _Request(user)}
        )
        if not serializer.is_valid():
            raise CommandError(f"Invalid brief: {json.dumps(serializer.errors)}")
        try:
            run = entry.start(brief=dict(serializer.validated_data), user=user, trace_id=uuid.uuid4().hex)
        except ApplicationError as error:
            raise CommandError(f"{error.message} {json.dumps(error.details)}" if error.details else error.message)
        run = run_wait(run, options["wait"])
        self.stdout.write(json.dumps(build_envelope(run), indent=2, default=str))
        if options["wait"] and not run.is_terminal:
            raise CommandError(
                f"The run {run.run_id} is still in progress after {options['wait']:g} s: is a worker "
                "running? (`make run` starts one.)",
                returncode=3,
            )
        if run.status == run.Status.FAILED:
            raise CommandError(
                f"The run {run.run_id} failed: {run.error['type']}: {run.error['message']}", returncode=2
            )

    def _user(self, username: str, brand_slug: str):
        User = get_user_model()
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user named {username!r}.")
            return user
        user = (
            User.objects.filter(brands__slug=brand_slug).order_by("id").first()
            or User.objects.filter(is_superuser=True).order_by("id").first()
        )
        if user is None:
            raise CommandError(f"No user belongs to brand {brand_slug!r}: run `manage.py seed_demo` or pass --user.")
        return user
