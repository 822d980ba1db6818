from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self):
        from deliverables.modules import BriefModule, module_register, split_csv  # apps are loaded now

        from .serializers import CampaignBriefSerializer
        from .services import campaign_start

        module_register(
            BriefModule(
                name="campaigns",
                serializer_class=CampaignBriefSerializer,
                start=campaign_start,
                brief_from_options=lambda options: {
                    "campaign_name": options["name"] or "",
                    "objectives": split_csv(options["objectives"]),
                    "budget": options["budget"],
                    "timeline_days": options["days"] or 30,
                    "audience": options["audience"],
                    "key_message": options["message"],
                },
            )
        )
