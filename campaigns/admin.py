"""Campaigns in the admin, scoped to the user's brands (any member may add one to their brand)."""

from django.contrib import admin

from brands.admin import BrandMemberAdminMixin
from brands.roles import GENERATE, may, may_anywhere
from brands.selectors import brands_for

from .models import Campaign


@admin.register(Campaign)
class CampaignAdmin(BrandMemberAdminMixin, admin.ModelAdmin):
    list_display = ["name", "brand", "timeline_days", "budget", "created_by", "created_at"]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter)]  # never other brands' names
    search_fields = ["name", "key_message"]
    list_select_related = ["brand", "created_by"]
    readonly_fields = ["created_by", "created_at"]

    def get_queryset(self, request):
        campaigns = super().get_queryset(request)
        return campaigns if request.user.is_superuser else campaigns.filter(brand__in=brands_for(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "brand":
            kwargs["queryset"] = brands_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def has_add_permission(self, request):
        return may_anywhere(request.user, GENERATE)

    def has_change_permission(self, request, obj=None):
        return may_anywhere(request.user, GENERATE) if obj is None else may(request.user, obj.brand_id, GENERATE)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)
