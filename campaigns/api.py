from drf_spectacular.utils import extend_schema

from deliverables.api import GENERATE_PARAMETERS, GenerateView
from deliverables.schema import GENERATE_RESPONSES

from .serializers import CampaignBriefSerializer
from .services import campaign_start


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
        return campaign_start(brief=brief, user=user, trace_id=trace_id)
