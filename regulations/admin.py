"""Curators browse the catalogue here; it is edited only through the reviewed YAML files, so
catalogue models are read-only in the admin. Holiday schedules are the one thing operators
record here."""

from django.contrib import admin

from .models import CatalogVersion, Fact, HolidaySchedule, Instrument, Jurisdiction, Obligation, Provision, Role


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
    fields = ["label", "text"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Instrument)
class InstrumentAdmin(ReadOnlyAdmin):
    list_display = ["code", "title_zh", "jurisdiction", "status", "nature", "effective", "expires", "retired"]
    list_filter = ["status", "nature", "jurisdiction", "retired"]
    search_fields = ["code", "title_zh", "title_en", "issuer_zh"]
    inlines = [ProvisionInline]


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


@admin.register(HolidaySchedule)
class HolidayScheduleAdmin(admin.ModelAdmin):
    list_display = ["year", "source", "recorded_at"]
