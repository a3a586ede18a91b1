"""Bad input, table-driven: malformed JSON, wrong types, very long strings, unknown fields and
query parameters, invalid dates and time zones, bodies the endpoint does not read (everything is
JSON but evidence uploads, which are multipart), NUL characters, huge bodies. Each is a 4xx that
names the problem, and nothing changes.
(Evidence files too large, of a forbidden type or with hostile names are covered in
tests/checklist/test_evidence.py.)"""

import json
from typing import Any

import pytest
from django.test import Client

from obligations.models import (
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
from tests.factories import SHANGHAI_APP

from .conftest import item_url, org_url

pytestmark = pytest.mark.django_db

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart"  # a dict body sent by the test client as multipart/form-data
DEADLINE = {"start": "2025-01-20", "amount": 10, "unit": "working_days"}
LIMIT = 1024 * 1024  # DATA_UPLOAD_MAX_MEMORY_SIZE

EVENT = {"type": "service_launched", "date": "2025-01-20"}

# (name, method, path, body, content type, status, what the answer must name)
# Paths: {org} is the organization's URL, {item} an item's; bodies that are not str/bytes are JSON
# (or multipart, for MULTIPART).
# fmt: off
CASES: list[tuple[str, str, str, Any, str | None, int, str]] = [
    # Malformed or unreadable bodies
    ("malformed JSON", "patch", "{item}", '{"status": "done"', JSON, 400, "JSON parse error"),
    ("JSON NaN", "post", "/api/v1/deadlines/compute", '{"start": "2025-01-20", "amount": NaN}', JSON, 400, "NaN"),
    ("not UTF-8", "post", "{item}comments/", b'{"text": "\xff\xfe"}', JSON, 400, "JSON parse error"),
    ("array, not object", "patch", "{org}profile/", [1, 2], JSON, 400, "Expected a dictionary"),
    ("plain text", "post", "{item}comments/", "hello", "text/plain", 415, "text/plain"),
    ("form to applicability", "post", "/api/v1/applicability/", "profile=%7B%7D", FORM, 415, FORM),
    ("form to profile PUT", "put", "{org}profile/", "answers=%7B%7D", FORM, 415, FORM),
    ("form to comments", "post", "{item}comments/", "text=hello", FORM, 415, FORM),
    ("multipart to item", "patch", "{item}", {"status": "done"}, MULTIPART, 415, "multipart/form-data"),
    ("form to evidence", "post", "{item}evidence/", "evidence_date=2025-03-01&note=x", FORM, 415, FORM),
    ("JSON to evidence", "post", "{item}evidence/", {"evidence_date": "2025-03-01", "note": "x"}, JSON, 415, JSON),
    # Wrong types
    ("status a number", "patch", "{item}", {"status": 5}, JSON, 400, "status"),
    ("assignee a name", "patch", "{item}", {"assignee": "bob"}, JSON, 400, "assignee"),
    ("assignee too big", "patch", "{item}", {"assignee": 2**70}, JSON, 400, "assignee"),
    ("answers a list", "patch", "{org}profile/", {"answers": ["roles"]}, JSON, 400, "answers"),
    ("set fact a string", "patch", "{org}profile/", {"answers": {"roles": "app_operator"}}, JSON, 400, "roles"),
    ("amount a word", "post", "/api/v1/deadlines/compute", {**DEADLINE, "amount": "ten"}, JSON, 400, "amount"),
    ("comment a number", "post", "{item}comments/", {"text": 709131}, JSON, 400, '"text":["Not a valid string."]'),
    ("token name a number", "post", "/api/v1/tokens/", {"name": 1.5}, JSON, 400, '"name":["Not a valid string."]'),
    ("hour a word", "patch", "{org}preferences/", {"reminder_hour": "nine"}, JSON, 400, "reminder_hour"),
    ("weekday 7", "patch", "{org}preferences/", {"reminder_weekday": 7}, JSON, 400, "reminder_weekday"),
    ("format in a body", "patch", "{item}", {"status": "done", "format": "json"}, JSON, 400, "format"),
    ("slow every 0 days", "patch", "{org}reminder-policy/", {"overdue_slow_every_days": 0}, JSON, 400, "slow_every"),
    ("days a string", "patch", "{org}reminder-policy/", {"days_before": "7"}, JSON, 400, "days_before"),
    ("boolean a word", "post", "{org}calendar-feeds/", {"name": "x", "mine_only": "maybe"}, JSON, 400, "mine_only"),
    # Very long strings
    ("comment 5001", "post", "{item}comments/", {"text": "x" * 5001}, JSON, 400, "text"),
    ("justification 5001", "patch", "{item}", {"justification": "x" * 5001}, JSON, 400, "justification"),
    ("note 5001", "patch", "{item}", {"note": "x" * 5001}, JSON, 400, "note"),
    ("name 201", "patch", "{org}", {"name": "x" * 201}, JSON, 400, "name"),
    ("subject 201", "post", "{org}events/", {**EVENT, "subject": "x" * 201}, JSON, 400, "subject"),
    ("token name 101", "post", "/api/v1/tokens/", {"name": "x" * 101}, JSON, 400, "name"),
    ("invitation code 201", "post", "/api/v1/invitations/accept/", {"token": "x" * 201}, JSON, 400, "token"),
    # Unknown fields and query parameters
    ("unknown field", "patch", "{item}", {"stauts": "done"}, JSON, 400, "stauts"),
    ("unknown field, org", "patch", "{org}", {"nmae": "x"}, JSON, 400, "nmae"),
    ("unknown field, profile", "patch", "{org}profile/", {"answers": {}, "anwsers": {}}, JSON, 400, "anwsers"),
    ("unknown fact", "patch", "{org}profile/", {"answers": {"no_such_fact": True}}, JSON, 400, "no_such_fact"),
    ("unknown field, public", "post", "/api/v1/deadlines/compute", {**DEADLINE, "extra": 1}, JSON, 400, "extra"),
    ("unknown filter", "get", "{org}checklist/?stauts=done", None, None, 400, "stauts"),
    ("unknown filter, public", "get", "/api/v1/instruments/?jurisdicton=CN", None, None, 400, "jurisdicton"),
    ("unknown ordering", "get", "{org}checklist/?ordering=-password", None, None, 400, "cannot be ordered by"),
    # Invalid dates and time zones
    ("30 February", "post", "{org}events/", {**EVENT, "date": "2025-02-30"}, JSON, 400, "date"),
    ("month 13", "get", "{org}checklist/?due_before=2025-13-01", None, None, 400, "due_before"),
    ("year 10000", "get", "{org}applicability/?as_of=10000-01-01", None, None, 400, "as_of"),
    ("date out of range", "post", "/api/v1/deadlines/compute", {**DEADLINE, "start": "1900-01-01"}, JSON, 400, "start"),
    ("date a word", "post", "{item}evidence/", {"evidence_date": "yesterday", "note": "x"}, MULTIPART, 400,
     "evidence_date"),
    ("unknown zone", "patch", "{org}", {"timezone": "Mars/Olympus"}, JSON, 400, "not an IANA time zone"),
    ("zone a path", "patch", "{org}", {"timezone": "../../etc/passwd"}, JSON, 400, "not an IANA time zone"),
    ("zone absolute", "patch", "{org}preferences/", {"reminder_timezone": "/etc/localtime"}, JSON, 400, "IANA"),
    ("zone with NUL", "patch", "{org}preferences/", {"reminder_timezone": "UTC\x00"}, JSON, 400, "reminder_timezone"),
    # NUL characters where text is looked up
    ("NUL in event type", "post", "{org}events/", {**EVENT, "type": "service\x00"}, JSON, 400, "type"),
    ("NUL in catalogue key", "get", "/api/v1/instruments/cn%00x/", None, None, 404, "Not found"),
    ("NUL in obligation ref", "get", "/api/v1/obligations/cn%00x:y/", None, None, 404, "Not found"),
    ("NUL in filter", "get", "{org}checklist/?instrument=a%00", None, None, 400, "instrument"),
    # Uploads: what test_evidence.py does not cover
    ("file field not a file", "post", "{item}evidence/", {"evidence_date": "2025-03-01", "file": "a.txt"}, MULTIPART,
     400, "file"),
]
# fmt: on
NAMES = [case[0] for case in CASES]


def state(world) -> dict:
    """Everything the requests above could change."""
    item = ChecklistItem.objects.get(pk=world.item.pk)
    organization = Organization.objects.get(pk=world.organization.pk)
    membership = Membership.objects.get(organization=organization, user=world.admin)
    return {
        "item": (item.version, item.status, item.assignee_id, item.justification),
        "organization": (organization.name, organization.slug, organization.timezone),
        "preferences": (membership.reminder_timezone, membership.reminder_hour),
        "counts": [
            model.objects.count()
            for model in (
                ItemHistory,
                Evidence,
                ProfileVersion,
                OrganizationEvent,
                ApiToken,
                Organization,
                Invitation,
                CalendarFeed,
            )
        ],
    }


def send(world, method, path, body, content_type, **extra):
    path = path.format(org=org_url(world.organization), item=item_url(world.item))
    if body is None:
        return getattr(world.api, method)(path, **extra)
    if content_type == MULTIPART:
        return getattr(world.api, method)(path, body, format="multipart", **extra)
    if not isinstance(body, str | bytes):
        body = json.dumps(body)
    return getattr(world.api, method)(path, body, content_type=content_type, **extra)


@pytest.mark.parametrize(("name", "method", "path", "body", "content_type", "status", "names"), CASES, ids=NAMES)
def test_bad_input_is_refused_by_name_and_changes_nothing(world, name, method, path, body, content_type, status, names):
    etag = world.api.get(item_url(world.item))["ETag"]
    before = state(world)

    response = send(world, method, path, body, content_type, HTTP_IF_MATCH=etag)

    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert names in response.content.decode("unicode_escape"), response.content
    assert state(world) == before
    assert ProfileVersion.objects.filter(organization=world.organization).latest("number").answers == SHANGHAI_APP


# --- Bodies over the limit -----------------------------------------------------------------

HUGE = [
    ("JSON over 1 MB", "patch", "{org}profile/", json.dumps({"answers": {"registered_in": "x" * LIMIT}}), JSON),
    (
        "multipart field over 1 MB",
        "post",
        "{item}evidence/",
        {"evidence_date": "2025-03-01", "note": "x" * (LIMIT + 1)},
        MULTIPART,
    ),
    ("1001 multipart fields", "post", "{item}evidence/", {f"f{n}": "1" for n in range(1001)}, MULTIPART),
]


@pytest.mark.parametrize(("name", "method", "path", "body", "content_type"), HUGE, ids=[h[0] for h in HUGE])
def test_bodies_over_the_limit_are_refused_before_anything_changes(world, name, method, path, body, content_type):
    before = state(world)

    response = send(world, method, path, body, content_type)

    assert 400 <= response.status_code < 500
    assert state(world) == before


@pytest.mark.parametrize(("name", "method", "path", "body", "content_type"), HUGE, ids=[h[0] for h in HUGE])
def test_bodies_over_the_limit_are_answered_413_naming_the_limit(world, name, method, path, body, content_type):
    response = send(world, method, path, body, content_type)

    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert "limit" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "content_type", "detail"),
    [
        (
            "{item}comments/",
            "text=hello",
            FORM,
            'The body must be application/json, not "application/x-www-form-urlencoded".',
        ),
        (
            "{item}evidence/",
            '{"evidence_date": "2025-03-01"}',
            JSON,
            'The body must be multipart/form-data, not "application/json".',
        ),
    ],
)
def test_a_body_in_another_media_type_is_a_415_naming_the_one_read(world, path, body, content_type, detail):
    response = send(world, "post", path, body, content_type)

    assert response.status_code == 415
    assert response.json() == {"detail": detail, "code": "unsupported_media_type"}


@pytest.mark.parametrize("path", ["/api/v1/applicability/", "/api/v1/deadlines/compute"])
def test_deeply_nested_json_is_a_400(world, path):
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {world.secret}")
    nested = "[" * 5000 + "]" * 5000  # 10 kB

    response = client.post(path, nested, content_type=JSON)

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
