"""Curators browse the catalogue here; it is edited only through the reviewed YAML files, so
catalogue models are read-only in the admin. Holiday schedules are the one thing operators
record here."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import path

from .catalog import drafting
from .catalog.validation import CatalogInvalid, read_catalog
from .models import CatalogVersion, Fact, HolidaySchedule, Instrument, Jurisdiction, Obligation, Provision, Role
from .services import catalog_load
from .signals import calendar_changed, reports


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ProvisionInline(admin.StackedInline):
    model = Provision
    extra = 0
    # A tuple fits both declared types (list invariance rejects one list for the two).
    fields = readonly_fields = ("label", "text")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class DraftForm(forms.Form):
    code = forms.CharField(max_length=80, help_text="The new instrument's code, e.g. cn-example-measures-2027.")
    source = forms.CharField(widget=forms.Textarea(attrs={"rows": 16, "cols": 100}), max_length=500_000)

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if problem := drafting.code_problem(code):
            raise forms.ValidationError(problem)
        return code


@admin.register(Instrument)
class InstrumentAdmin(ReadOnlyAdmin):
    list_display = ["code", "title_zh", "jurisdiction", "status", "nature", "effective", "expires", "retired"]
    list_filter = ["status", "nature", "jurisdiction", "retired"]
    search_fields = ["code", "title_zh", "title_en", "issuer_zh"]
    inlines = [ProvisionInline]
    change_list_template = "admin/regulations/instrument/change_list.html"

    def get_urls(self):
        draft = path("draft/", self.admin_site.admin_view(self.draft_view), name="regulations_instrument_draft")
        return [draft, *super().get_urls()]

    def draft_view(self, request):
        """What manage.py draft_instrument does: paste a source text, get the unreviewed draft."""
        form = DraftForm(request.POST or None)
        context = {**self.admin_site.each_context(request), "title": "Draft an instrument", "opts": self.model._meta}
        if request.method == "POST" and form.is_valid():
            roles = read_catalog().vocabulary.roles
            context["draft"] = drafting.draft_yaml(form.cleaned_data["source"], form.cleaned_data["code"], roles)
        context["form"] = form
        return TemplateResponse(request, "admin/regulations/instrument/draft.html", context)


@admin.register(Obligation)
class ObligationAdmin(ReadOnlyAdmin):
    list_display = ["key", "instrument", "provision", "kind", "modality", "phase", "deadline_kind", "retired"]
    list_filter = ["kind", "modality", "deadline_kind", "roles", "instrument__jurisdiction", "retired"]
    search_fields = ["key", "quote_zh", "summary_en", "actor_zh", "instrument__code"]
    list_select_related = ["instrument", "provision", "phase"]


@admin.register(Role)
class RoleAdmin(ReadOnlyAdmin):
    list_display = ["key", "name_zh", "name_en"]
    search_fields = ["key", "name_zh", "name_en"]


@admin.register(Fact)
class FactAdmin(ReadOnlyAdmin):
    list_display = ["key", "type", "question_en"]


@admin.register(Jurisdiction)
class JurisdictionAdmin(ReadOnlyAdmin):
    list_display = ["code", "parent", "name_zh", "name_en"]


@admin.register(CatalogVersion)
class CatalogVersionAdmin(ReadOnlyAdmin):
    list_display = ["content_hash", "loaded_at", "instruments", "provisions", "obligations"]
    change_list_template = "admin/regulations/catalogversion/change_list.html"

    def get_urls(self):
        plan = path("plan/", self.admin_site.admin_view(self.plan_view), name="regulations_catalogversion_plan")
        return [plan, *super().get_urls()]

    def plan_view(self, request):
        """What loading the bundled catalogue files would change, per organization's checklist.
        Runs the real load and sync inside a transaction that is rolled back."""
        context = {**self.admin_site.each_context(request), "title": "Catalogue update plan", "opts": self.model._meta}
        try:
            result = catalog_load(dry_run=True)
        except CatalogInvalid as error:
            context["errors"] = [str(e) for e in error.errors]
        else:
            context["result"] = result
            context["plans"] = [(p, p.counts(), p.details()) for p in result.reports]
        return TemplateResponse(request, "admin/regulations/catalogversion/plan.html", context)


@admin.register(HolidaySchedule)
class HolidayScheduleAdmin(admin.ModelAdmin):
    list_display = ["year", "source", "recorded_at"]
    actions = ["recompute_due_dates"]

    @admin.action(description="Recompute stored due dates with the recorded schedules")
    def recompute_due_dates(self, request, queryset):
        cause = {"code": "calendar", "years": sorted(s.year for s in queryset)}
        plans = reports(calendar_changed, dry_run=False, cause=cause)
        moved = sum(p.counts().get("redated", 0) for p in plans)
        self.message_user(
            request,
            f"{moved} due date(s) moved across {len(plans)} organization(s); see each item's history.",
            messages.SUCCESS,
        )
