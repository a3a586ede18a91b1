"""Operators' view of organizations. Checklist history, evidence and profile versions are
read-only here as in the API: the audit trail cannot be altered through any path."""

from django.contrib import admin

from regulations.admin import ReadOnlyAdmin

from . import services
from .models import (
    ApiToken,
    AuditEvent,
    CalendarFeed,
    ChecklistItem,
    Delivery,
    Endpoint,
    Evidence,
    Invitation,
    ItemHistory,
    Membership,
    Organization,
    OrganizationEvent,
    ProfileVersion,
)


class MembershipInline(admin.TabularInline):
    """Read-only: members join by invitation and change roles in the organization's pages and
    API, whose services keep an admin in every organization and record the audit trail."""

    model = Membership
    extra = 0
    # A tuple fits both declared types (list invariance rejects one list for the two).
    fields = readonly_fields = ("user", "role", "created_at")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Operators may rename an organization or change its time zone, through the same service
    as the API; organizations are created by their users, who become their first admins."""

    list_display = ["name", "slug", "timezone", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        stored = Organization.objects.get(pk=obj.pk)  # the form has already changed ``obj``
        services.organization_update(
            stored, actor=request.user, **{name: form.cleaned_data[name] for name in form.changed_data}
        )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "organization", "actor", "action", "subject"]
    list_filter = ["action"]
    list_select_related = ["organization", "actor"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["digest"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            services.token_revoke(token, actor=request.user)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["email", "organization", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    exclude = ["digest"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "member", "prefix", "created_at", "revoked_at"]
    exclude = ["digest"]


@admin.register(ProfileVersion)
class ProfileVersionAdmin(ReadOnlyAdmin):
    list_display = ["organization", "number", "changed_by", "created_at"]
    list_filter = ["organization"]


@admin.register(OrganizationEvent)
class OrganizationEventAdmin(ReadOnlyAdmin):
    list_display = ["organization", "type", "date", "subject", "reported_by"]
    list_filter = ["type", "organization"]


class HistoryInline(admin.TabularInline):
    model = ItemHistory
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "action", "changes", "note"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ChecklistItem)
class ChecklistItemAdmin(ReadOnlyAdmin):
    list_display = ["obligation", "organization", "occurrence", "status", "due_date", "superseded_at"]
    list_filter = ["status", "applicability", "organization"]
    list_select_related = ["obligation__instrument", "organization"]
    inlines = [HistoryInline]


@admin.register(ItemHistory)
class ItemHistoryAdmin(ReadOnlyAdmin):
    list_display = ["item", "at", "actor", "action"]
    list_filter = ["action"]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ["item", "filename", "url", "evidence_date", "uploaded_by", "uploaded_at"]


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdmin):
    """Operators see where organizations send events and which endpoints fail; admins of the
    organization change them (API), where the address rules and the audit live."""

    list_display = ["organization", "kind", "name", "url", "enabled", "failing_since", "disabled_at"]
    list_filter = ["kind", "enabled"]
    exclude = ["secret", "lease_until"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "response_status", "next_attempt_at", "delivered_at"]
    list_filter = ["status"]
    list_select_related = ["event", "endpoint"]
