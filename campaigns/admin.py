"""Brands (with their members and kit) and campaigns in the admin, scoped to the user's brands."""

from django.contrib import admin
from django.db.models import Count

from .models import Brand, Campaign
from .selectors import brands_for


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "industry", "member_count", "created_at"]
    search_fields = ["name", "slug", "industry"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "industry", "members"]}),
        (
            "Brand kit",
            {
                "fields": [
                    "audience",
                    "tone_of_voice",
                    "voice_examples",
                    "banned_words",
                    "required_disclaimers",
                    "languages",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return brands_for(request.user).annotate(member_total=Count("members", distinct=True))

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, brand):
        return brand.member_total


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
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
