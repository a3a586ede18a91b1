"""Evidence that expires: a duty done with evidence valid until a day gets a renewal item due
that day, reminded like any duty, set aside when no longer needed, renewed again in turn."""

import datetime as dt

import pytest

from obligations.models import ChecklistItem, Membership
from obligations.services import reminders

from .conftest import MANAGEMENT, SHANGHAI, item_for, item_url, patch_item

pytestmark = pytest.mark.django_db


def add_evidence(client, item, **fields):
    body = {"evidence_date": "2026-01-05", "note": "安全评估报告", **fields}
    return client.post(item_url(item, "evidence/"), body, format="multipart")


def renewals(item) -> list[ChecklistItem]:
    return list(ChecklistItem.objects.filter(organization=item.organization, occurrence=f"renewal:{item.pk}"))


@pytest.mark.parametrize("order", ["done first", "evidence first"])
def test_a_duty_done_with_expiring_evidence_gets_a_renewal_due_on_its_last_day(shanghai, as_alice, order):
    item = item_for(shanghai, MANAGEMENT)
    if order == "done first":
        assert patch_item(as_alice, item, {"status": "done"}).status_code == 200
    response = add_evidence(as_alice, item, valid_until="2027-01-04")
    assert response.status_code == 201 and response.json()["valid_until"] == "2027-01-04"
    if order == "evidence first":
        assert renewals(item) == []  # not done yet: nothing to renew
        assert patch_item(as_alice, item, {"status": "done"}).status_code == 200

    [renewal] = renewals(item)
    assert (renewal.status, renewal.applicability, renewal.track) == ("open", "applies", "duty")
    assert renewal.due_date == dt.date(2027, 1, 4) and renewal.superseded_at is None
    detail = as_alice.get(item_url(renewal), HTTP_ACCEPT_LANGUAGE="en").json()
    assert detail["title"] == item.obligation.title_in("en")
    assert detail["due_explanation"] == [
        "Renewal: the evidence of 2026-01-05 is valid until 2027-01-04; renew it by then."
    ]
    chinese = as_alice.get(item_url(renewal), HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert chinese["due_explanation"] == ["续期：2026-01-05的证明材料有效期至2027-01-04，请在此之前续期。"]

    # Reminded before it lapses, by the organization's policy (30 days before by default).
    membership = Membership.objects.get(organization=shanghai, user__username="alice")
    now = dt.datetime(2026, 12, 5, 9, 30, tzinfo=SHANGHAI)
    due = [s for s in reminders.due_reminders([shanghai.pk], now) if s.item.pk == renewal.pk]
    assert [(s.member.membership.pk, s.point.offset) for s in due] == [(membership.pk, -30)]


def test_a_renewal_is_set_aside_when_its_duty_is_reopened_and_renewed_again_in_turn(shanghai, as_alice):
    item = item_for(shanghai, MANAGEMENT)
    patch_item(as_alice, item, {"status": "done"})
    add_evidence(as_alice, item, valid_until="2027-01-04")
    [renewal] = renewals(item)

    patch_item(as_alice, item, {"status": "in_progress"})
    renewal.refresh_from_db()
    assert renewal.superseded_at is not None
    reason = as_alice.get(item_url(renewal), HTTP_ACCEPT_LANGUAGE="en").json()["superseded_reason"]
    assert reason.startswith("No renewal is needed now")

    patch_item(as_alice, item, {"status": "done"})
    renewal.refresh_from_db()
    assert renewal.superseded_at is None  # the same renewal, back

    # Renewed with new evidence, valid for another year: the renewal has its own renewal.
    assert patch_item(as_alice, renewal, {"status": "done"}).status_code == 200
    add_evidence(as_alice, renewal, evidence_date="2026-12-20", valid_until="2027-12-19")
    [next_one] = renewals(renewal)
    assert next_one.due_date == dt.date(2027, 12, 19)


def test_evidence_cannot_end_before_the_date_it_shows(shanghai, as_alice):
    item = item_for(shanghai, MANAGEMENT)
    response = add_evidence(as_alice, item, valid_until="2025-12-31")
    assert response.status_code == 400 and "2026-01-05" in response.json()["valid_until"][0]
    assert not item.evidence.exists()


def test_evidence_without_an_end_asks_for_no_renewal(shanghai, as_alice):
    item = item_for(shanghai, MANAGEMENT)
    patch_item(as_alice, item, {"status": "done"})
    add_evidence(as_alice, item)
    assert renewals(item) == []
