"""Writes, by sub-domain: ``accounts`` (organizations, members, tokens, invitations, reminder
settings), ``profile`` (answers and events), ``checklist`` (sync and item changes),
``evidence``, ``reminders``, ``calendar`` and ``demo``. The names most callers need are
re-exported here."""

from .accounts import (
    account_create_with_invitation,
    audit,
    digest,
    invitation_accept,
    invitation_create,
    invitation_revoke,
    membership_change_role,
    membership_remove,
    new_secret,
    organization_create,
    organization_update,
    reminder_policy_update,
    reminder_preferences_update,
    token_create,
    token_revoke,
    token_user,
)
from .demo import DEMO_PROFILE, demo_setup
from .profile import event_delete, event_report, profile_update

__all__ = [
    "DEMO_PROFILE",
    "account_create_with_invitation",
    "audit",
    "demo_setup",
    "digest",
    "event_delete",
    "event_report",
    "invitation_accept",
    "invitation_create",
    "invitation_revoke",
    "membership_change_role",
    "membership_remove",
    "new_secret",
    "organization_create",
    "organization_update",
    "profile_update",
    "reminder_policy_update",
    "reminder_preferences_update",
    "token_create",
    "token_revoke",
    "token_user",
]
