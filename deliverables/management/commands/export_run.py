import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aicmo.core.errors import ApplicationError
from deliverables.models import Run
from deliverables.services import run_export
from deliverables.services.exports import FORMATS

EXIT_USAGE = 2  # also what argparse answers for a bad option
EXIT_NO_RUN = 3
EXIT_NOTHING_TO_EXPORT = 4
EXIT_CANNOT_WRITE = 5


class Command(BaseCommand):
    help = (
        "Export a run as md, json, docx, csv, pdf, pptx, ics or zip (the working files), e.g. "
        "`export_run <run_id> --format pdf --approved-only --output exports/`. Without --output the file goes "
        "to the current directory under its export name; "
        "--output - writes it to stdout. Exit codes: 0 written, 2 invalid arguments, 3 no such run, "
        "4 nothing (approved) to export, 5 the output cannot be written."
    )

    def add_arguments(self, parser):
        parser.add_argument("run_id", help="The run's id (a UUID, as in the envelope).")
        parser.add_argument("--format", required=True, choices=FORMATS, dest="fmt")
        parser.add_argument("--approved-only", action="store_true", help="Only approved deliverables.")
        parser.add_argument("--output", default="", help="File or existing directory to write to; - for stdout.")

    def handle(self, *args, **options):
        try:
            run_id = uuid.UUID(options["run_id"])
        except ValueError:
            raise CommandError(f"{options['run_id']!r} is not a run id (a UUID).", returncode=EXIT_USAGE)
        run = Run.objects.select_related("brand", "campaign").filter(run_id=run_id).first()
        if run is None:
            raise CommandError(f"No run {run_id}.", returncode=EXIT_NO_RUN)
        try:
            export = run_export(run=run, fmt=options["fmt"], approved_only=options["approved_only"], actor=None)
        except ApplicationError as refusal:
            raise CommandError(refusal.message, returncode=EXIT_NOTHING_TO_EXPORT)

        if options["output"] == "-":
            if hasattr(self.stdout, "buffer"):  # a real stream: the bytes as they are (docx and zip are binary)
                self.stdout.flush()
                self.stdout.buffer.write(export.content)
                self.stdout.buffer.flush()
            else:
                self.stdout.write(export.content.decode(errors="replace"), ending="")
            return
        target = Path(options["output"] or ".")
        if target.is_dir():
            target = target / export.filename
        try:
            target.write_bytes(export.content)
        except OSError as error:
            raise CommandError(f"Cannot write {target}: {error.strerror or error}.", returncode=EXIT_CANNOT_WRITE)
        self.stdout.write(
            f"Wrote {target} ({len(export.content)} bytes, {options['fmt']}"
            f"{', approved only' if options['approved_only'] else ''})."
        )
