"""The operator's and manager's back office. Everything is scoped to the user's brands (superusers: all) and
read-only: deliverables change only through the workflow services, which the admin actions call."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q, QuerySet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from aicmo.core.errors import ApplicationError
from aicmo.core.markdown import render_markdown
from brands import roles
from brands.admin import BrandMemberAdminMixin
from brands.selectors import brands_for, brands_where

from .models import Asset, AuditEvent, Deliverable, ProviderCall, Revision, Run
from .selectors import deliverables_for, runs_for
from .services import deliverable_approve, deliverable_reject, deliverable_submit

# Brand filters list only brands present in the (brand-scoped) rows: never other brands' names.
MY_BRANDS = admin.RelatedOnlyFieldListFilter


class ReadOnlyAdmin(BrandMemberAdminMixin, admin.ModelAdmin):
    """Rows written by the application (runs, revisions, audit, provider calls) are never edited by hand;
    brand members who are staff view them (each admin scopes its rows to their brands)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(BrandMemberAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _quality_html(report) -> str:
    report = report or {}
    rows = [("⛔ " + issue.get("message", ""),) for issue in report.get("blocking") or []]
    rows += [("⚠ " + issue.get("message", ""),) for issue in report.get("warnings") or []]
    if not rows:
        return "No issues."
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", rows))


# --- runs ----------------------------------------------------------------------------------------------------


class DeliverableInline(ReadOnlyInline):
    model = Deliverable
    fields = ["position", "kind", "title", "platform", "status", "version", "generation_status"]
    readonly_fields = fields
    ordering = ["position"]


class ProviderCallInline(ReadOnlyInline):
    model = ProviderCall
    fields = [
        "created_at",
        "provider",
        "model",
        "use_case",
        "outcome",
        "latency_ms",
        "tokens_in",
        "tokens_out",
        "cost_usd",
        "error_type",
    ]
    readonly_fields = fields
    ordering = ["created_at"]


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = [
        "run_id",
        "module",
        "brand",
        "campaign",
        "status",
        "provider",
        "model",
        "tokens_used",
        "cost_usd",
        "created_at",
    ]
    list_filter = ["status", "module", ("brand", MY_BRANDS), "provider"]
    search_fields = ["run_id", "trace_id", "campaign__name"]
    date_hierarchy = "created_at"
    inlines = [DeliverableInline, ProviderCallInline]
    readonly_fields = [
        "run_id",
        "module",
        "brand",
        "campaign",
        "status",
        "trace_id",
        "requested_by",
        "provider",
        "model",
        "tokens_used",
        "cost_usd",
        "warnings",
        "error",
        "input_snapshot",
        "created_at",
        "dispatched_at",
        "started_at",
        "finished_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return runs_for(request.user).select_related("campaign__brand")  # a campaign's name includes its brand

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser  # clearing out test runs; their deliverables and audit go with them


# --- deliverables --------------------------------------------------------------------------------------------


class RevisionInline(ReadOnlyInline):
    model = Revision
    fields = ["version", "title", "author", "provider", "model", "note", "quality_summary", "created_at"]
    readonly_fields = fields
    ordering = ["-version"]
    show_change_link = False

    @admin.display(description="Quality")
    def quality_summary(self, revision):
        report = revision.quality or {}
        return f"{len(report.get('blocking') or [])} blocking, {len(report.get('warnings') or [])} warnings"


class AuditEventInline(ReadOnlyInline):
    model = AuditEvent
    fk_name = "deliverable"
    fields = ["created_at", "actor", "action", "from_status", "to_status", "revision", "comment"]
    readonly_fields = fields
    ordering = ["-created_at"]
    show_change_link = False


class TransitionForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 80}), required=False, max_length=2000)


class RejectForm(TransitionForm):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        required=True,
        max_length=2000,
        help_text="What should change (the author sees this).",
    )


@admin.register(Deliverable)
class DeliverableAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "kind",
        "platform",
        "brand",
        "run_link",
        "status",
        "version",
        "generation_status",
        "updated_at",
    ]
    list_filter = ["status", "generation_status", "kind", ("run__brand", MY_BRANDS)]
    search_fields = ["title", "run__run_id", "run__campaign__name"]
    inlines = [RevisionInline, AuditEventInline]
    fields = [
        "id",
        "run_link",
        "kind",
        "platform",
        "status",
        "version",
        "generation_status",
        "title",
        "hashtags",
        "quality_report",
        "rendered_content",
        "images",
        "error",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    actions = ["approve_selected", "reject_selected", "submit_selected"]

    def get_queryset(self, request):
        return deliverables_for(request.user)

    @admin.display(description="Brand", ordering="run__brand__name")
    def brand(self, deliverable):
        return deliverable.run.brand

    @admin.display(description="Run")
    def run_link(self, deliverable):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:deliverables_run_change", args=[deliverable.run_id]),
            deliverable.run.run_id,
        )

    def _current_revision(self, deliverable):
        if not hasattr(deliverable, "_admin_revision"):
            deliverable._admin_revision = deliverable.revisions.filter(version=deliverable.version).first()
        return deliverable._admin_revision

    @admin.display(description="Current revision")
    def rendered_content(self, deliverable):
        revision = self._current_revision(deliverable)
        if revision is None:
            return "Not generated yet."
        return format_html(
            '<div class="aicmo-markdown" style="max-width: 60em">{}</div>', render_markdown(revision.content_markdown)
        )

    @admin.display(description="Quality report")
    def quality_report(self, deliverable):
        revision = self._current_revision(deliverable)
        return _quality_html(revision.quality) if revision else "—"

    @admin.display(description="Images")
    def images(self, deliverable):
        assets = list(deliverable.assets.all())
        if not assets:
            return "—"
        return format_html_join(
            "", '<img src="{}" alt="" style="max-height: 200px; margin-right: 8px">', ((asset.url,) for asset in assets)
        )

    # --- actions: each calls the workflow service and reports every refusal -------------------------------

    # The actions are offered to whoever holds the role in some brand; the service then checks each
    # deliverable's own brand, so a manager of one brand is refused (and told) on another brand's rows.
    def has_approve_permission(self, request):
        return roles.may_anywhere(request.user, roles.APPROVE)

    def has_submit_permission(self, request):
        return roles.may_anywhere(request.user, roles.SUBMIT)

    @admin.action(description="Approve selected deliverables", permissions=["approve"])
    def approve_selected(self, request, queryset):
        return self._transition(
            request, queryset, service=deliverable_approve, form_class=TransitionForm, verb="approve", done="approved"
        )

    @admin.action(description="Reject selected deliverables (request changes)", permissions=["approve"])
    def reject_selected(self, request, queryset):
        return self._transition(
            request,
            queryset,
            service=deliverable_reject,
            form_class=RejectForm,
            verb="reject",
            done="sent back for changes",
        )

    @admin.action(description="Submit selected deliverables for review", permissions=["submit"])
    def submit_selected(self, request, queryset):
        return self._transition(
            request,
            queryset,
            service=deliverable_submit,
            form_class=TransitionForm,
            verb="submit",
            done="submitted for review",
        )

    def _transition(self, request, queryset: QuerySet, *, service, form_class, verb: str, done: str):
        """First POST (from the change list): a page asking for a comment. Second POST (`apply`): do it."""
        form = form_class(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            succeeded = 0
            for deliverable in queryset:
                try:
                    service(deliverable=deliverable, actor=request.user, comment=form.cleaned_data["comment"])
                except ApplicationError as refusal:
                    level = messages.WARNING if refusal.http_status == 409 else messages.ERROR
                    self.message_user(request, f"“{deliverable}” was not {done}: {_explain(refusal)}", level)
                else:
                    succeeded += 1
            if succeeded:
                self.message_user(
                    request, f"{succeeded} deliverable{'s' if succeeded != 1 else ''} {done}.", messages.SUCCESS
                )
            return None  # back to the change list
        context = {
            **self.admin_site.each_context(request),
            "title": f"{verb.capitalize()} deliverables",
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action": request.POST.get("action", ""),
            "verb": verb,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/deliverables/deliverable/transition.html", context)


def _explain(refusal: ApplicationError) -> str:
    details = refusal.details
    if isinstance(details, list) and details and isinstance(details[0], dict) and "message" in details[0]:
        return refusal.message + " " + " ".join(issue["message"] for issue in details)
    return refusal.message


# --- the rest, read-only -----------------------------------------------------------------------------------


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    list_display = ["deliverable", "version", "author", "provider", "note", "created_at"]
    list_filter = ["provider", ("deliverable__run__brand", MY_BRANDS)]
    search_fields = ["deliverable__title", "note", "deliverable__id"]
    list_select_related = ["deliverable", "author"]
    fields = [
        "deliverable",
        "version",
        "title",
        "author",
        "provider",
        "model",
        "note",
        "hashtags",
        "structured",
        "quality_report",
        "rendered_content",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        revisions = super().get_queryset(request)
        return (
            revisions
            if request.user.is_superuser
            else revisions.filter(deliverable__run__brand__in=brands_for(request.user))
        )

    @admin.display(description="Content")
    def rendered_content(self, revision):
        return format_html('<div style="max-width: 60em">{}</div>', render_markdown(revision.content_markdown))

    @admin.display(description="Quality report")
    def quality_report(self, revision):
        return _quality_html(revision.quality)


@admin.register(Asset)
class AssetAdmin(ReadOnlyAdmin):
    list_display = ["preview_thumbnail", "brand", "deliverable", "provider", "model", "size", "created_at"]
    list_filter = [("brand", MY_BRANDS), "provider"]
    search_fields = ["prompt"]
    list_select_related = ["brand", "deliverable"]
    fields = [
        "id",
        "brand",
        "deliverable",
        "preview",
        "prompt",
        "content_type",
        "size",
        "provider",
        "model",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        assets = super().get_queryset(request)
        return assets if request.user.is_superuser else assets.filter(brand__in=brands_for(request.user))

    @admin.display(description="Image")
    def preview_thumbnail(self, asset):
        return format_html('<img src="{}" alt="" style="max-height: 64px">', asset.url) if asset.file else "—"

    @admin.display(description="Image")
    def preview(self, asset):
        return format_html('<img src="{}" alt="" style="max-width: 480px">', asset.url) if asset.file else "—"


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "actor",
        "action",
        "deliverable",
        "run",
        "from_status",
        "to_status",
        "revision",
        "comment",
    ]
    list_filter = ["action", "to_status"]
    search_fields = ["comment", "actor__username", "deliverable__title"]
    list_select_related = ["actor", "deliverable", "run"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        events = super().get_queryset(request)
        if request.user.is_superuser:
            return events
        brands = brands_for(request.user)
        return events.filter(Q(run__brand__in=brands) | Q(deliverable__run__brand__in=brands))


@admin.register(ProviderCall)
class ProviderCallAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "provider",
        "model",
        "use_case",
        "outcome",
        "latency_ms",
        "tokens_in",
        "tokens_out",
        "cost_usd",
        "error_type",
        "run",
    ]
    list_filter = ["provider", "outcome", "use_case", "error_type"]
    search_fields = ["trace_id", "error_message", "model"]
    list_select_related = ["run"]
    date_hierarchy = "created_at"

    def has_module_permission(self, request):  # spend and errors: for the brands' managers
        return super().has_module_permission(request) and roles.may_anywhere(request.user, roles.APPROVE)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def get_queryset(self, request):
        calls = super().get_queryset(request)
        return calls if request.user.is_superuser else calls.filter(brand__in=brands_where(request.user, roles.APPROVE))
