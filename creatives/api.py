from drf_spectacular.utils import extend_schema

from deliverables.api import ENVELOPE, WAIT_PARAMETER, GenerateView

from .serializers import CreativesBriefSerializer
from .services import creatives_generate


class CreativesGenerateView(GenerateView):
    module = "creatives"
    serializer_class = CreativesBriefSerializer

    @extend_schema(request=CreativesBriefSerializer, parameters=[WAIT_PARAMETER],
                   responses={200: ENVELOPE, 202: ENVELOPE, 400: ENVELOPE})
    def post(self, request):
        return super().post(request)

    def start(self, *, brief, user, trace_id):
        brand = brief.pop("brand")
        campaign = brief.pop("campaign", None)
        return creatives_generate(brand=brand, user=user, brief=brief, trace_id=trace_id, campaign=campaign)
