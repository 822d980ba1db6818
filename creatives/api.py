from drf_spectacular.utils import extend_schema

from deliverables.api import GENERATE_PARAMETERS, GenerateView
from deliverables.schema import GENERATE_RESPONSES

from .serializers import CreativesBriefSerializer
from .services import creatives_generate


class CreativesGenerateView(GenerateView):
    module = "creatives"
    serializer_class = CreativesBriefSerializer

    @extend_schema(
        request={"application/json": CreativesBriefSerializer},
        parameters=GENERATE_PARAMETERS,
        responses=GENERATE_RESPONSES,
    )
    def post(self, request):
        return super().post(request)

    def start(self, *, brief, user, trace_id):
        brand = brief.pop("brand")
        campaign = brief.pop("campaign", None)
        return creatives_generate(brand=brand, user=user, brief=brief, trace_id=trace_id, campaign=campaign)
