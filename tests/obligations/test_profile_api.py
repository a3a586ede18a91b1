"""The organization's profile (versioned answers to the fact vocabulary) and its events."""

import pytest

from obligations.models import OrganizationEvent, ProfileVersion
from regulations.models import Fact

pytestmark = pytest.mark.django_db


@pytest.fixture
def profile_url(acme) -> str:
    return f"/api/v1/organizations/{acme.pk}/profile/"


@pytest.fixture
def events_url(acme) -> str:
    return f"/api/v1/organizations/{acme.pk}/events/"


def patch(client, url, answers):
    response = client.patch(url, {"answers": answers}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def all_facts() -> set[str]:
    return set(Fact.objects.values_list("key", flat=True))


# --- Profile -------------------------------------------------------------------------------


def test_profile_starts_at_version_0_with_every_fact_unanswered(as_alice, profile_url):
    profile = as_alice.get(profile_url).json()
    assert profile["version"] == 0
    assert profile["answers"] == {} and profile["changes"] == {}
    assert profile["changed_by"] is None
    assert len(profile["unanswered"]) == len(all_facts())
    assert set(profile["unanswered"]) == all_facts()
    assert not ProfileVersion.objects.exists()


def test_patch_creates_a_version_recording_what_changed_and_who(acme, as_alice, profile_url):
    profile = patch(as_alice, profile_url, {"roles": ["app_operator"], "registered_in": "CN-SH-LG"})
    assert profile["version"] == 1
    assert profile["answers"] == {"roles": ["app_operator"], "registered_in": "CN-SH-LG"}
    assert profile["changes"] == {
        "registered_in": {"from": None, "to": "CN-SH-LG"},
        "roles": {"from": None, "to": ["app_operator"]},
    }
    assert profile["changed_by"] == "alice"
    assert set(profile["unanswered"]) == all_facts() - {"roles", "registered_in"}

    # PATCH merges: the roles stay, one answer changes.
    profile = patch(as_alice, profile_url, {"registered_in": "CN-SH-PD", "employees": 40})
    assert profile["version"] == 2
    assert profile["answers"] == {"roles": ["app_operator"], "registered_in": "CN-SH-PD", "employees": 40}
    assert profile["changes"] == {
        "employees": {"from": None, "to": 40},
        "registered_in": {"from": "CN-SH-LG", "to": "CN-SH-PD"},
    }
    assert as_alice.get(profile_url).json()["version"] == 2
    assert ProfileVersion.objects.filter(organization=acme).count() == 2


def test_patch_with_the_same_answers_creates_no_version(as_alice, profile_url):
    patch(as_alice, profile_url, {"roles": ["deep_synthesis_provider", "app_operator"], "employees": 40})
    # The same set in another order, with a duplicate, is the same answer.
    profile = patch(as_alice, profile_url, {"roles": ["app_operator", "deep_synthesis_provider", "app_operator"]})
    assert profile["version"] == 1
    assert profile["answers"]["roles"] == ["app_operator", "deep_synthesis_provider"]
    assert patch(as_alice, profile_url, {})["version"] == 1
    assert ProfileVersion.objects.count() == 1


def test_null_makes_a_fact_unknown_again(as_alice, profile_url):
    patch(as_alice, profile_url, {"roles": ["app_operator"], "operates_in": ["CN-SH"]})
    profile = patch(as_alice, profile_url, {"operates_in": None})
    assert profile["version"] == 2
    assert profile["answers"] == {"roles": ["app_operator"]}
    assert profile["changes"] == {"operates_in": {"from": ["CN-SH"], "to": None}}
    assert "operates_in" in profile["unanswered"]
    # An empty list is an answer ("nowhere"), not unknown.
    profile = patch(as_alice, profile_url, {"operates_in": []})
    assert profile["answers"]["operates_in"] == []
    assert "operates_in" not in profile["unanswered"]


def test_put_replaces_and_facts_not_given_become_unknown(as_alice, profile_url):
    patch(as_alice, profile_url, {"roles": ["app_operator"], "registered_in": "CN-SH-LG", "employees": 40})
    response = as_alice.put(profile_url, {"answers": {"registered_in": "CN-SH-LG", "sectors": []}}, format="json")
    assert response.status_code == 200
    profile = response.json()
    assert profile["version"] == 2
    assert profile["answers"] == {"registered_in": "CN-SH-LG", "sectors": []}
    assert profile["changes"] == {
        "employees": {"from": 40, "to": None},
        "roles": {"from": ["app_operator"], "to": None},
        "sectors": {"from": None, "to": []},
    }
    assert {"roles", "employees"} <= set(profile["unanswered"])


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize(
    ("fact", "value"),
    [
        ("no_such_fact", True),
        ("employees", "forty"),
        ("employees", -1),
        ("employees", True),
        ("roles", "app_operator"),
        ("roles", ["not_a_role"]),
        ("roles", ["app_operator", 7]),
        ("features", ["teleportation"]),
        ("registered_in", "CN-XX"),
        ("registered_in", ["CN-SH"]),
        ("operates_in", ["CN-SH", "CN-XX"]),
        ("ownership", "cooperative"),
    ],
    ids=lambda value: str(value),
)
def test_invalid_answer_is_a_400_naming_the_fact_and_saves_nothing(as_alice, profile_url, method, fact, value):
    patch(as_alice, profile_url, {"roles": ["app_operator"]})
    response = getattr(as_alice, method)(
        profile_url, {"answers": {"registered_in": "CN-SH-LG", fact: value}}, format="json"
    )
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == ["answers"]
    assert list(errors["answers"]) == [fact]  # only the wrong answer is named
    assert ProfileVersion.objects.count() == 1
    assert as_alice.get(profile_url).json()["answers"] == {"roles": ["app_operator"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": {"employees": 1}, "note": "hi"}, "note"),
        ({"employees": 1}, "employees"),
        ({}, "answers"),
        ({"answers": ["employees"]}, "answers"),
    ],
    ids=["unknown-field-beside-answers", "answers-not-wrapped", "no-answers", "answers-not-an-object"],
)
def test_malformed_body_is_a_400_naming_the_field(as_alice, profile_url, body, field):
    response = as_alice.patch(profile_url, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ProfileVersion.objects.exists()


def test_versions_are_listed_newest_first(acme, as_alice, profile_url, make_user, add_member, client_for):
    officer = make_user("olga")
    add_member(acme, officer, "officer")
    patch(as_alice, profile_url, {"roles": ["app_operator"]})
    patch(client_for(officer), profile_url, {"employees": 40})
    patch(as_alice, profile_url, {"employees": 45})

    versions = as_alice.get(f"{profile_url}versions/").json()["results"]
    assert [(v["version"], v["changed_by"]) for v in versions] == [(3, "alice"), (2, "olga"), (1, "alice")]
    assert versions[0]["changes"] == {"employees": {"from": 40, "to": 45}}
    assert versions[-1]["answers"] == {"roles": ["app_operator"]}


# --- Events --------------------------------------------------------------------------------


def report(client, url, type_, date, **extra):
    return client.post(url, {"type": type_, "date": date, **extra}, format="json")


def test_reported_event_is_stored_with_its_reporter(acme, as_alice, events_url):
    response = report(as_alice, events_url, "service_launched", "2025-01-20", subject="FaceFun app")
    assert response.status_code == 201
    body = response.json()
    assert (body["type"], body["date"], body["subject"], body["reported_by"]) == (
        "service_launched",
        "2025-01-20",
        "FaceFun app",
        "alice",
    )
    event = OrganizationEvent.objects.get()
    assert (event.organization, event.type_id, event.date.isoformat()) == (acme, "service_launched", "2025-01-20")
    assert as_alice.get(f"{events_url}{event.pk}/").json()["id"] == event.pk


def test_event_with_unknown_type_is_a_400_naming_type(as_alice, events_url):
    response = report(as_alice, events_url, "app_went_viral", "2025-01-20")
    assert response.status_code == 400
    assert list(response.json()) == ["type"]
    assert not OrganizationEvent.objects.exists()


@pytest.mark.parametrize("date", ["1949-12-31", "2201-01-01", "2025-02-30", "20.01.2025"])
def test_event_date_out_of_range_or_invalid_is_a_400(as_alice, events_url, date):
    response = report(as_alice, events_url, "service_launched", date)
    assert response.status_code == 400
    assert list(response.json()) == ["date"]
    assert not OrganizationEvent.objects.exists()


@pytest.mark.parametrize("date", ["1950-01-01", "2200-12-31"])
def test_event_dates_at_the_ends_of_the_range_are_accepted(as_alice, events_url, date):
    assert report(as_alice, events_url, "service_launched", date).status_code == 201


def test_event_with_unknown_field_is_a_400(as_alice, events_url):
    response = report(as_alice, events_url, "service_launched", "2025-01-20", organization=999)
    assert response.status_code == 400
    assert "organization" in response.json()


def test_events_are_listed_and_filtered_by_type(as_alice, events_url):
    for type_, date in [
        ("service_launched", "2025-01-20"),
        ("request_received", "2025-03-01"),
        ("service_launched", "2025-06-01"),
    ]:
        assert report(as_alice, events_url, type_, date).status_code == 201

    everything = as_alice.get(events_url).json()
    assert everything["count"] == 3
    launched = as_alice.get(f"{events_url}?type=service_launched").json()["results"]
    assert [(e["type"], e["date"]) for e in launched] == [
        ("service_launched", "2025-06-01"),
        ("service_launched", "2025-01-20"),
    ]
    assert as_alice.get(f"{events_url}?type=filing_submitted").json()["count"] == 0


def test_unknown_query_parameter_or_event_type_filter_is_a_400(as_alice, events_url):
    response = as_alice.get(f"{events_url}?typ=service_launched")
    assert response.status_code == 400
    assert response.json() == {"typ": ["Unknown query parameter."]}
    response = as_alice.get(f"{events_url}?type=app_went_viral")
    assert response.status_code == 400
    assert "type" in response.json()


def test_officer_reports_and_deletes_events(acme, events_url, make_user, add_member, client_for):
    officer = make_user("olga")
    add_member(acme, officer, "officer")
    client = client_for(officer)
    created = report(client, events_url, "incident_detected", "2025-04-01").json()
    assert created["reported_by"] == "olga"
    assert client.delete(f"{events_url}{created['id']}/").status_code == 204
    assert not OrganizationEvent.objects.exists()
