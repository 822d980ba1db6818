"""Page-number pagination that refuses `?page=` (empty) like any other page that is not a number (404 "Invalid
page."), instead of quietly answering the first page: the schema declares `page` an integer."""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination


class StrictPageNumberPagination(PageNumberPagination):
    def paginate_queryset(self, queryset, request, view=None):
        if request.query_params.get(self.page_query_param, None) == "":
            raise NotFound(self.invalid_page_message.format(page_number="", message="That page number is empty."))
        return super().paginate_queryset(queryset, request, view)
