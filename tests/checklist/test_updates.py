"""Officers' changes to items: conditional on the ETag, validated, recorded once in the history."""

import pytest

from obligations.errors import ServiceError
from obligations.models import ChecklistItem, Membership
from obligations.services.checklist import item_update
from tests.factories import SHANGHAI_APP

from .conftest import (
    FILING,
    MANAGEMENT,
    current_etag,
    history_actions,
    item_for,
    item_url,
    patch_item,
    set_profile,
    url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(shanghai):
    return item_for(shanghai, MANAGEMENT)


def state(item) -> tuple:
    row = ChecklistItem.objects.get(pk=item.pk)
    return row.status, row.assignee_id, row.justification, row.version, row.history.count()


# --- If-Match ------------------------------------------------------------------------------


def test_update_without_if_match_is_428_and_changes_nothing(as_alice, item):
    before = state(item)

    response = as_alice.patch(item_url(item), {"status": "done"}, format="json")

    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    assert state(item) == before


def test_update_with_a_stale_etag_is_412_and_changes_nothing(as_alice, item):
    stale = current_etag(as_alice, item)
    assert patch_item(as_alice, item, {"status": "in_progress"}, etag=stale).status_code == 200
    before = state(item)

    response = patch_item(as_alice, item, {"status": "done"}, etag=stale)

    assert response.status_code == 412
    assert state(item) == before
    assert state(item)[0] == "in_progress"


@pytest.mark.parametrize("weak", [False, True])
def test_update_with_the_current_etag_succeeds_and_returns_a_new_one(as_alice, item, weak):
    etag = current_etag(as_alice, item)
    assert etag == f'"{item.pk}-{item.version}"'

    response = patch_item(as_alice, item, {"status": "in_progress"}, etag=("W/" + etag) if weak else etag)

    assert response.status_code == 200, response.content
    assert response["ETag"] != etag
    assert response["ETag"] == current_etag(as_alice, item)
    assert response.json()["status"] == "in_progress"
    assert response.json()["version"] == item.version + 1


def test_every_accepted_change_is_recorded_exactly_once(as_alice, alice, item):
    etag = current_etag(as_alice, item)
    first = patch_item(as_alice, item, {"status": "in_progress", "note": "Started"}, etag=etag)
    assert first.status_code == 200
    assert patch_item(as_alice, item, {"status": "done"}, etag=etag).status_code == 412  # lost race: nothing
    second = patch_item(as_alice, item, {"status": "done"}, etag=first["ETag"])
    assert second.status_code == 200
    assert patch_item(as_alice, item, {"status": "done"}).status_code == 200  # no change: no entry

    history = as_alice.get(item_url(item, "history/")).json()

    assert [h["action"] for h in history] == ["created", "updated", "updated"]
    assert history[1]["changes"] == {"status": {"from": "open", "to": "in_progress"}}
    assert history[1]["note"] == "Started"
    assert history[1]["actor"] == {"id": alice.pk, "username": "alice"}
    assert history[2]["changes"] == {"status": {"from": "in_progress", "to": "done"}}
    assert ChecklistItem.objects.get(pk=item.pk).version == item.version + 2


def test_two_officers_editing_at_once_one_wins_and_the_other_gets_412(
    as_alice, make_user, add_member, client_for, shanghai, item
):
    bob = make_user("bob")
    add_member(shanghai, bob)
    as_bob = client_for(bob)
    etag = current_etag(as_alice, item)
    assert current_etag(as_bob, item) == etag

    assert patch_item(as_alice, item, {"assignee": bob.pk}, etag=etag).status_code == 200
    response = patch_item(as_bob, item, {"status": "done"}, etag=etag)

    assert response.status_code == 412
    row = ChecklistItem.objects.get(pk=item.pk)
    assert (row.status, row.assignee_id) == ("open", bob.pk)
    assert history_actions(item) == ["created", "updated"]


# --- What may change -----------------------------------------------------------------------


def test_done_records_who_and_when_and_reopening_clears_it(as_alice, alice, item):
    response = patch_item(as_alice, item, {"status": "done"})
    assert response.status_code == 200
    data = response.json()
    assert data["completed_by"] == {"id": alice.pk, "username": "alice"}
    assert data["completed_at"]
    row = ChecklistItem.objects.get(pk=item.pk)
    assert row.completed_by == alice
    assert row.completed_at is not None

    response = patch_item(as_alice, item, {"status": "open"})

    assert response.status_code == 200
    assert response.json()["completed_by"] is None
    assert response.json()["completed_at"] is None
    row.refresh_from_db()
    assert (row.completed_by, row.completed_at) == (None, None)


def test_not_applicable_needs_a_justification(as_alice, item):
    before = state(item)
    response = patch_item(as_alice, item, {"status": "not_applicable"})
    assert response.status_code == 400
    assert "justification" in response.json()
    response = patch_item(as_alice, item, {"status": "not_applicable", "justification": "   "})
    assert response.status_code == 400
    assert "justification" in response.json()
    assert state(item) == before

    response = patch_item(as_alice, item, {"status": "not_applicable", "justification": "No face data processed."})

    assert response.status_code == 200
    assert response.json()["justification"] == "No face data processed."
    assert ChecklistItem.objects.get(pk=item.pk).status == "not_applicable"


def test_assignee_must_be_a_member(as_alice, make_user, make_organization, add_member, shanghai, item):
    outsider = make_user("outsider")
    other_admin = make_user("other-admin")
    make_organization(other_admin, "Other")
    before = state(item)

    for user in (outsider, other_admin):
        response = patch_item(as_alice, item, {"assignee": user.pk})
        assert response.status_code == 400
        assert "assignee" in response.json()
    assert state(item) == before

    bob = make_user("bob")
    add_member(shanghai, bob)
    response = patch_item(as_alice, item, {"assignee": bob.pk})
    assert response.status_code == 200
    assert response.json()["assignee"] == {"id": bob.pk, "username": "bob"}
    response = patch_item(as_alice, item, {"assignee": None})
    assert response.status_code == 200
    assert response.json()["assignee"] is None


def test_unknown_field_is_rejected(as_alice, item):
    response = patch_item(as_alice, item, {"due_date": "2030-01-01"})
    assert response.status_code == 400
    assert "due_date" in response.json()


def test_viewer_may_read_but_not_change(make_user, add_member, client_for, shanghai, item):
    viewer = make_user("viewer")
    add_member(shanghai, viewer, Membership.Role.VIEWER)
    as_viewer = client_for(viewer)
    before = state(item)

    response = patch_item(as_viewer, item, {"status": "done"})

    assert response.status_code == 403
    assert state(item) == before
    assert as_viewer.post(item_url(item, "comments/"), {"text": "hi"}, format="json").status_code == 403


def test_non_member_gets_404(make_user, client_for, item):
    stranger = client_for(make_user("stranger"))
    assert stranger.get(item_url(item)).status_code == 404
    assert stranger.patch(item_url(item), {"status": "done"}, format="json", HTTP_IF_MATCH="x").status_code == 404


def test_superseded_item_cannot_change(as_alice, alice, shanghai, item):
    set_profile(shanghai, alice, {"roles": ["app_operator"]})
    item.refresh_from_db()
    assert item.superseded_at is not None
    before = state(item)

    response = as_alice.patch(
        item_url(item), {"status": "done"}, format="json", HTTP_IF_MATCH=f'"{item.pk}-{item.version}"'
    )

    assert response.status_code == 400
    assert "status" in response.json()
    assert state(item) == before


def test_superseded_item_cannot_change_at_the_service_level(alice, shanghai, item):
    """Whatever the API answers, the service refuses to change a superseded item."""
    set_profile(shanghai, alice, {"roles": ["app_operator"]})
    item.refresh_from_db()
    before = state(item)

    with pytest.raises(ServiceError) as excinfo:
        item_update(item, actor=alice, expected_version=item.version, status="done")

    assert excinfo.value.field == "status"
    assert state(item) == before


def test_superseded_item_still_takes_comments(as_alice, alice, shanghai):
    item = item_for(shanghai, FILING)
    set_profile(shanghai, alice, {"roles": ["app_operator"]})

    response = as_alice.post(item_url(item, "comments/"), {"text": "Filed anyway."}, format="json")

    assert response.status_code == 201
    assert response.json()["action"] == "commented"
    assert history_actions(item)[-1] == "commented"


# --- Bulk changes --------------------------------------------------------------------------


def open_items(organization, count: int) -> list[ChecklistItem]:
    items = list(ChecklistItem.objects.filter(organization=organization, superseded_at__isnull=True).order_by("pk"))
    assert len(items) >= count
    return items[:count]


def bulk(client, organization, items, **change):
    body = {"items": [{"id": i.pk, "version": i.version} for i in items], **change}
    return client.post(url(organization, "checklist/bulk/"), body, format="json")


def test_bulk_change_gives_each_item_its_own_history_and_version(as_alice, alice, make_user, add_member, shanghai):
    bob = make_user("bob")
    add_member(shanghai, bob)
    items = open_items(shanghai, 3)
    response = bulk(as_alice, shanghai, items, assignee=bob.pk, note="Bob takes the filing work.")
    assert response.status_code == 200, response.content
    rows = response.json()
    assert [r["id"] for r in rows] == [i.pk for i in items]
    for item, row in zip(items, rows, strict=True):
        assert row["assignee"] == {"id": bob.pk, "username": "bob"} and row["version"] == item.version + 1
        entry = ChecklistItem.objects.get(pk=item.pk).history.latest("at")
        assert (entry.actor, entry.note) == (alice, "Bob takes the filing work.")
        assert entry.changes == {"assignee": {"from": None, "to": bob.pk}}

    items = [ChecklistItem.objects.get(pk=i.pk) for i in items]
    response = bulk(as_alice, shanghai, items, status="not_applicable", justification="We run no news service.")
    assert response.status_code == 200, response.content
    assert {(r["status"], r["version"]) for r in response.json()} == {("not_applicable", items[0].version + 1)}
    assert all(ChecklistItem.objects.get(pk=i.pk).justification == "We run no news service." for i in items)


def test_bulk_change_is_all_or_nothing_and_names_what_is_wrong(as_alice, make_user, make_organization, shanghai):
    items = open_items(shanghai, 3)
    before = [state(i) for i in items]

    # Not applicable needs a justification: refused for the first item, nothing changes.
    response = bulk(as_alice, shanghai, items, status="not_applicable")
    assert response.status_code == 400 and "justification" in response.json()
    assert f"Item {items[0].pk}" in response.json()["justification"][0]
    # One item changed meanwhile: the others are left alone too, and the stale one is named.
    assert patch_item(as_alice, items[1], {"note": "seen"}).status_code == 200
    stale_before = state(items[1])
    response = bulk(as_alice, shanghai, items, status="done")
    assert response.status_code == 400 and str(items[1].pk) in response.json()["items"][0]
    assert [state(i) for i in (items[0], items[2])] == [before[0], before[2]]
    assert state(items[1]) == stale_before
    # Another organization's item is not one of this checklist.
    other = make_organization(make_user("other-admin"), "Other", profile=SHANGHAI_APP)
    foreign = ChecklistItem.objects.filter(organization=other).first()
    response = bulk(as_alice, shanghai, [items[0], foreign], status="done")
    assert response.status_code == 400 and str(foreign.pk) in response.json()["items"][0]
    assert state(foreign) == (foreign.status, foreign.assignee_id, foreign.justification, foreign.version, 1)
    # Nothing to change, an empty or repeated selection: refused by name.
    assert "status" in bulk(as_alice, shanghai, items).json()
    assert "items" in bulk(as_alice, shanghai, [], status="done").json()
    assert "items" in bulk(as_alice, shanghai, [items[0], items[0]], status="done").json()
    assert [state(i) for i in (items[0], items[2])] == [before[0], before[2]]


def test_bulk_change_needs_a_writer(make_user, add_member, client_for, shanghai):
    viewer = make_user("viewer")
    add_member(shanghai, viewer, Membership.Role.VIEWER)
    items = open_items(shanghai, 2)
    before = [state(i) for i in items]
    assert bulk(client_for(viewer), shanghai, items, status="done").status_code == 403
    assert bulk(client_for(make_user("stranger")), shanghai, items, status="done").status_code == 404
    assert [state(i) for i in items] == before
