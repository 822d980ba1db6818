from drf_spectacular.utils import extend_schema

from deliverables.api import GENERATE_PARAMETERS, GenerateView
from deliverables.schema import GENERATE_RESPONSES

from .serializers import CreativesBriefSerializer
from .services import creatives_start


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
        return creatives_start(brief=brief, user=user, trace_id=trace_id)
