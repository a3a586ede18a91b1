"""Many clients updating the same few checklist items at once, each on its own database
connection, for a fixed time. Every update is conditional (If-Match); a stale one gets 412 and
the client re-reads and retries. Nothing may be lost or recorded twice: each accepted change is
in the item's history exactly once, and the version counts exactly the accepted changes."""

import random
import threading
import time
from collections import Counter, defaultdict

import pytest
from django.db import connections

from obligations.models import ChecklistItem, ItemHistory

from .conftest import item_url, record

CLIENTS = 8
ITEMS = 3
SECONDS = 10


def contested_items(organization) -> list[ChecklistItem]:
    """Items whose status change does not re-synchronize the checklist (no next period)."""
    items = ChecklistItem.objects.filter(organization=organization, superseded_at__isnull=True).order_by("id")
    chosen = [i for i in items.select_related("obligation") if i.obligation.deadline.get("anchor") is None]
    return chosen[:ITEMS]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_conditional_updates_lose_nothing(postgres, world):
    items = contested_items(world.organization)
    assert len(items) == ITEMS
    before = {item.pk: (item.version, item.history.filter(action="updated").count()) for item in items}
    accepted: dict[int, list[str]] = defaultdict(list)
    outcomes: Counter = Counter()
    unexpected: list[tuple[int, bytes]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def client_loop(number: int) -> None:
        api, rng, sequence = world.api, random.Random(number), 0
        try:
            while time.monotonic() < deadline:
                item = rng.choice(items)
                read = api.get(item_url(item))
                if read.status_code != 200:
                    with lock:
                        unexpected.append((read.status_code, read.content))
                    return
                etag = read["ETag"]
                while time.monotonic() < deadline:
                    sequence += 1
                    note = f"client {number} change {sequence}"
                    status = rng.choice(["open", "in_progress"])
                    response = api.patch(
                        item_url(item), {"status": status, "note": note}, format="json", HTTP_IF_MATCH=etag
                    )
                    with lock:
                        outcomes[response.status_code] += 1
                        if response.status_code == 200:
                            accepted[item.pk].append(note)
                        elif response.status_code != 412 or b"fetch it again" not in response.content:
                            unexpected.append((response.status_code, response.content))
                    if response.status_code != 412:
                        break
                    etag = api.get(item_url(item))["ETag"]  # re-read, then reapply the change
        finally:
            connections.close_all()  # this thread's connection

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 60)
    assert not any(thread.is_alive() for thread in threads)

    attempts, stale = sum(outcomes.values()), outcomes[412]
    total_accepted = sum(len(notes) for notes in accepted.values())
    lost = duplicated = 0
    for item in items:
        item.refresh_from_db()
        version_before, updates_before = before[item.pk]
        history = list(
            ItemHistory.objects.filter(item=item, action="updated").order_by("id").values_list("note", flat=True)
        )[updates_before:]
        recorded, expected = Counter(history), Counter(accepted[item.pk])
        lost += sum((expected - recorded).values()) + sum((recorded - expected).values())
        duplicated += sum(count - 1 for count in recorded.values() if count > 1)
        assert len(history) == len(accepted[item.pk]), item.pk
        assert item.version == version_before + len(accepted[item.pk]), item.pk
    record(
        f"concurrency: {CLIENTS} clients x {ITEMS} items for {SECONDS} s: {attempts} attempts, "
        f"{total_accepted} accepted, {stale} answered 412, {lost} lost, {duplicated} recorded twice, "
        f"{len(unexpected)} other answers"
    )
    assert not unexpected, unexpected[:3]
    assert lost == 0 and duplicated == 0
    assert total_accepted == outcomes[200] > 0
    assert stale > 0  # the clients really did collide
