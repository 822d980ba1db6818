from drf_spectacular.utils import extend_schema

from deliverables.api import GENERATE_PARAMETERS, GenerateView
from deliverables.schema import GENERATE_RESPONSES

from .serializers import CampaignBriefSerializer
from .services import campaign_generate


class CampaignGenerateView(GenerateView):
    module = "campaigns"
    serializer_class = CampaignBriefSerializer

    @extend_schema(
        request={"application/json": CampaignBriefSerializer},
        parameters=GENERATE_PARAMETERS,
        responses=GENERATE_RESPONSES,
    )
    def post(self, request):
        return super().post(request)

    def start(self, *, brief, user, trace_id):
        brand = brief.pop("brand")
        return campaign_generate(brand=brand, user=user, brief=brief, trace_id=trace_id)
