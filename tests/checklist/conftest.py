"""Small helpers for the checklist tests: alice's Shanghai app company, and the way every item
change goes through the API (read the ETag, send it back as If-Match). The people and the API
clients are the shared cast of tests/conftest.py."""

import datetime as dt
import zoneinfo
from typing import Any
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar
from rest_framework.test import APIClient

from obligations.models import ChecklistItem
from tests.factories import SHANGHAI_APP, api_client

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

# A Nanchang municipal state-owned enterprise: its CDO holds a meeting every quarter (a
# recurring duty on a fixed schedule, nc-chief-data-officer-plan-2023:quarterly-meeting-soe).
NANCHANG_SOE = {
    "registered_in": "CN-JX-NC",
    "operates_in": ["CN-JX-NC"],
    "data_sourced_in": [],
    "roles": ["enterprise"],
    "features": [],
    "sectors": [],
    "ownership": "municipal_soe",
}

FILING = "cn-deep-synthesis-2022:art19-filing-file-provider"  # 10 working days after service_launched
MANAGEMENT = "cn-deep-synthesis-2022:art7-management-systems"  # deep_synthesis_provider, no deadline
EXISTING_APP = "cn-miit-app-filing-2023:file-existing-app"  # needs review until service_launched is known


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    """A moment in Shanghai, for time_machine."""
    return dt.datetime(year, month, day, hour, tzinfo=SHANGHAI)


def url(organization, rest: str = "") -> str:
    return f"/api/v1/organizations/{organization.pk}/{rest}"


def item_url(item, rest: str = "") -> str:
    return f"/api/v1/organizations/{item.organization_id}/checklist/{item.pk}/{rest}"


def item_for(organization, ref: str, occurrence: str | None = "") -> ChecklistItem:
    """The item of obligation ``instrument:key`` (and occurrence; None: the only one)."""
    code, key = ref.split(":")
    items = ChecklistItem.objects.filter(
        organization=organization, obligation__instrument__code=code, obligation__key=key
    )
    if occurrence is not None:
        items = items.filter(occurrence=occurrence)
    return items.get()


def refs(items) -> list[str]:
    return sorted(f"{i.obligation.instrument.code}:{i.obligation.key}" for i in items)


def history_actions(item) -> list[str]:
    return list(item.history.order_by("at", "id").values_list("action", flat=True))


def current_etag(client: APIClient, item) -> str:
    response = client.get(item_url(item))
    assert response.status_code == 200, response.content
    return response["ETag"]


def patch_item(client: APIClient, item, data: dict, etag: str | None = None):
    """PATCH with the item's current ETag (fetched first unless given)."""
    etag = etag or current_etag(client, item)
    return client.patch(item_url(item), data, format="json", HTTP_IF_MATCH=etag)


def set_profile(organization, user, answers: dict) -> None:
    response = api_client(user).patch(url(organization, "profile/"), {"answers": answers}, format="json")
    assert response.status_code == 200, response.content


def report_event(client: APIClient, organization, type_: str, date: str) -> int:
    response = client.post(url(organization, "events/"), {"type": type_, "date": date}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


@pytest.fixture
def shanghai(alice, make_organization):
    """Alice's Shanghai app company with its profile answered (the checklist is synced)."""
    return make_organization(alice, "Shanghai", profile=SHANGHAI_APP)


def create_feed(
    client: APIClient, organization, name: str = "All", mine_only: bool = False, language: str = "en"
) -> dict:
    body = {"name": name, "mine_only": mine_only, "language": language}
    response = client.post(url(organization, "calendar-feeds/"), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def feed_events(feed_url: str) -> dict[str, Any]:
    """The feed's VEVENTs keyed by UID (fetched without signing in: the secret is the key)."""
    response = APIClient().get(urlsplit(feed_url).path)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}
