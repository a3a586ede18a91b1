"""Profile changes racing each other and racing checklist edits, each client on its own
database connection (PostgreSQL). Every PATCH merges into the latest version under the
organization's lock, so no answer is lost, versions are numbered without gaps or repeats, and
an item edit that meets a re-synchronized item gets 412, never a server error."""

import threading
from collections import Counter

import pytest
from django.db import connections
from rest_framework.test import APIClient

from obligations.models import ProfileVersion

from .conftest import item_url, org_url, record

# One fact per client, so that the final profile shows whether any client's answer was lost.
WRITERS = {
    "employees": [10, 20, 30, 40],
    "annual_revenue_cny": [1_000_000, 2_000_000, 3_000_000, 4_000_000],
    "conducts_sci_tech_activities": [True, False, True, False],
    "has_ethics_committee": [False, True, False, True],
    "ownership": ["private", "foreign_invested", "private", "foreign_invested"],
}


def _run(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_profile_updates_lose_no_answer(postgres, world):
    before = ProfileVersion.objects.filter(organization=world.organization).count()
    statuses: Counter = Counter()
    lock = threading.Lock()

    def writer(fact: str, values: list) -> None:
        client = APIClient()
        client.force_authenticate(world.admin)
        try:
            for value in values:
                response = client.patch(
                    org_url(world.organization, "profile/"), {"answers": {fact: value}}, format="json"
                )
                with lock:
                    statuses[response.status_code] += 1
        finally:
            connections.close_all()

    _run([threading.Thread(target=writer, args=item) for item in WRITERS.items()])

    versions = list(
        ProfileVersion.objects.filter(organization=world.organization)
        .order_by("number")
        .values_list("number", flat=True)
    )
    latest = ProfileVersion.objects.filter(organization=world.organization).order_by("-number").first()
    record(f"profile race: {len(WRITERS)} clients x 4 PATCHes: {dict(statuses)}, {len(versions) - before} versions")
    assert statuses == Counter({200: sum(len(v) for v in WRITERS.values())})
    assert versions == list(range(1, len(versions) + 1))  # no gap, no repeat
    assert len(versions) - before == sum(len(v) for v in WRITERS.values())  # every PATCH changed a value
    assert {fact: latest.answers[fact] for fact in WRITERS} == {fact: values[-1] for fact, values in WRITERS.items()}


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_profile_change_racing_item_edits_gives_no_server_error(postgres, world):
    statuses: Counter = Counter()
    lock = threading.Lock()
    item = world.item

    def editor() -> None:
        client = APIClient()
        client.force_authenticate(world.admin)
        try:
            for n in range(15):
                etag = client.get(item_url(item))["ETag"]
                status = "in_progress" if n % 2 else "open"
                response = client.patch(item_url(item), {"status": status}, format="json", HTTP_IF_MATCH=etag)
                with lock:
                    statuses[f"item {response.status_code}"] += 1
        finally:
            connections.close_all()

    def profiler() -> None:
        client = APIClient()
        client.force_authenticate(world.admin)
        try:
            for n in range(6):
                features = ["biometric_editing"] if n % 2 else ["biometric_editing", "public_opinion_attributes"]
                response = client.patch(
                    org_url(world.organization, "profile/"), {"answers": {"features": features}}, format="json"
                )
                with lock:
                    statuses[f"profile {response.status_code}"] += 1
        finally:
            connections.close_all()

    _run([threading.Thread(target=editor) for _ in range(3)] + [threading.Thread(target=profiler)])
    record(f"profile vs item edits: {dict(statuses)}")
    assert set(statuses) <= {"item 200", "item 412", "profile 200"}, statuses
    assert statuses["profile 200"] == 6 and statuses["item 200"] > 0
