from django.apps import AppConfig


class CreativesConfig(AppConfig):
    name = "creatives"

    def ready(self):
        from deliverables.modules import BriefModule, module_register  # apps are loaded now

        from .serializers import CreativesBriefSerializer
        from .services import creatives_start

        module_register(
            BriefModule(
                name="creatives",
                serializer_class=CreativesBriefSerializer,
                start=creatives_start,
                brief_from_options=lambda options: {
                    "product": options["product"] or "",
                    "pitch": options["message"],
                    "count": options["count"] or 1,
                    "with_images": options["with_images"],
                    "tone": options["tone"],
                    "style": options["style"],
                    "campaign": options["campaign"],
                },
            )
        )
        # Registers the tasks in every process: the studio dispatches its reply task by name, and Celery's
        # autodiscovery runs only inside workers.
        from . import tasks  # noqa: F401
