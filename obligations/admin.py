"""Operators' view of organizations. Checklist history, evidence and profile versions are
read-only here as in the API: the audit trail cannot be altered through any path."""

from django.contrib import admin

from regulations.admin import ReadOnlyAdmin

from .models import (
    ApiToken,
    CalendarFeed,
    ChecklistItem,
    Evidence,
    Invitation,
    ItemHistory,
    Membership,
    Organization,
    OrganizationEvent,
    ProfileVersion,
)
from .services import token_revoke


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["digest"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            token_revoke(token)


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
