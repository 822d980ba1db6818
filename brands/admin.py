"""Brands with their members' roles and their kit, and the permission rules every brand-scoped admin follows:
staff see the models of the brands they belong to; what they may change there is their role's to say
(brands/roles.py), never a global group."""

from django.contrib import admin
from django.db.models import Count

from .models import Brand, Membership
from .roles import EDIT_BRAND, may, may_anywhere, roles_of
from .selectors import brands_for


class BrandMemberAdminMixin:
    """Admin access from brand memberships: any member who is staff may view (rows are scoped to their
    brands by each admin's queryset); adding, changing and deleting stay off unless an admin allows them."""

    def has_module_permission(self, request):
        user = request.user
        return user.is_active and user.is_staff and (user.is_superuser or bool(roles_of(user)))

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Brand)
class BrandAdmin(BrandMemberAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "industry", "member_count", "allow_self_approval", "created_at"]
    search_fields = ["name", "slug", "industry"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "industry", "allow_self_approval"]}),
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
        return brands_for(request.user).annotate(member_total=Count("memberships", distinct=True))

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, brand):
        return brand.member_total

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return may_anywhere(request.user, EDIT_BRAND)
        return may(request.user, obj.pk, EDIT_BRAND)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
