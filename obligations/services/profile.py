"""Writes to an organization's profile (versioned answers) and reported events; each change
re-synchronizes the checklist in the same transaction."""

from typing import Any

from django.db import transaction

from ..errors import validated
from ..models import Organization, OrganizationEvent, ProfileVersion
from ..selectors import profile_current
from .checklist import checklist_sync

# --- Profile and events --------------------------------------------------------------------


@transaction.atomic
def profile_update(
    *, organization: Organization, answers: dict[str, Any], unset: list[str], replace: bool, changed_by
) -> ProfileVersion:
    """Record new answers (already validated against the vocabulary). ``unset`` facts become
    unknown; with ``replace`` every fact not given becomes unknown. No change, no version."""
    Organization.objects.select_for_update().get(pk=organization.pk)  # one writer at a time
    current = profile_current(organization)
    updated = dict(answers) if replace else {**current.answers, **answers}
    for key in unset:
        updated.pop(key, None)
    changes = {
        key: {"from": current.answers.get(key), "to": updated.get(key)}
        for key in sorted(set(current.answers) | set(updated))
        if current.answers.get(key) != updated.get(key)
    }
    if not changes:
        return current
    version = ProfileVersion.objects.create(
        organization=organization, number=current.number + 1, answers=updated, changes=changes, changed_by=changed_by
    )
    checklist_sync(organization, cause={"code": "profile", "version": version.number})
    return version


@transaction.atomic
def event_report(*, organization: Organization, reported_by, **fields) -> OrganizationEvent:
    event = validated(OrganizationEvent(organization=organization, reported_by=reported_by, **fields))
    event.save()
    checklist_sync(
        organization, cause={"code": "event_reported", "event": event.type_id, "date": event.date.isoformat()}
    )
    return event


@transaction.atomic
def event_delete(event: OrganizationEvent) -> None:
    """A mistaken report: its items are superseded (kept, with their history), not deleted."""
    organization = event.organization
    cause = {"code": "event_deleted", "event": event.type_id, "date": event.date.isoformat()}
    event.delete()
    checklist_sync(organization, cause=cause)
