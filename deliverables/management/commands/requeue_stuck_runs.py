from django.conf import settings
from django.core.management.base import BaseCommand

from deliverables.services.recovery import runs_requeue_stuck


class Command(BaseCommand):
    help = (
        "Move on runs that lost their way, once (beat also runs this every minute): dispatch runs that were "
        "never queued because the broker was down; for runs without progress for AICMO_RUN_STUCK_AFTER_S "
        "seconds, fail deliverables already delivered AICMO_MAX_TASK_DELIVERIES times, settle runs whose "
        "deliverables have all ended, and re-dispatch the rest. Exit 0 (also when there was nothing to do)."
    )

    def handle(self, *args, **options):
        counts = runs_requeue_stuck()
        self.stdout.write(f"dispatched {counts['dispatched']} run(s) that were never queued")
        self.stdout.write(
            f"re-dispatched {counts['redispatched']} stuck run(s) "
            f"(no progress for {settings.AICMO_RUN_STUCK_AFTER_S} s)"
        )
        self.stdout.write(
            f"gave up {counts['gave_up']} deliverable(s) after {settings.AICMO_MAX_TASK_DELIVERIES} deliveries"
        )
        self.stdout.write(f"settled {counts['settled']} run(s) whose deliverables had all ended")
        self.stdout.write(self.style.SUCCESS("Nothing was stuck." if not any(counts.values()) else "Done."))
