from drf_spectacular.utils import extend_schema

from deliverables.api import ENVELOPE, WAIT_PARAMETER, GenerateView

from .serializers import CampaignBriefSerializer
from .services import campaign_generate


class CampaignGenerateView(GenerateView):
    module = "campaigns"
    serializer_class = CampaignBriefSerializer

    @extend_schema(request=CampaignBriefSerializer, parameters=[WAIT_PARAMETER],
                   responses={200: ENVELOPE, 202: ENVELOPE, 400: ENVELOPE})
    def post(self, request):
        return super().post(request)

    def start(self, *, brief, user, trace_id):
        brand = brief.pop("brand")
        return campaign_generate(brand=brand, user=user, brief=brief, trace_id=trace_id)
