"""Reads of an organization's own data."""

import datetime as dt

from .models import Organization, OrganizationEvent, ProfileVersion


def profile_current(organization: Organization) -> ProfileVersion:
    """The latest profile version; an unsaved empty version 0 when nothing was answered yet."""
    latest = ProfileVersion.objects.filter(organization=organization).order_by("-number").first()
    return latest or ProfileVersion(organization=organization, number=0, answers={})


def organization_event_dates(organization: Organization) -> dict[str, list[dt.date]]:
    dates: dict[str, list[dt.date]] = {}
    for key, date in OrganizationEvent.objects.filter(organization=organization).values_list("type_id", "date"):
        dates.setdefault(key, []).append(date)
    return dates
