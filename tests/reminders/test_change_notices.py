"""Checklist changes ride in the next reminder digest of each admin and officer, once each, in
the reader's language, with their items and why."""

import datetime as dt

import pytest

from obligations import services
from obligations.models import ChangeNotice, ChecklistChange, Membership
from obligations.services import reminders
from tests.factories import SHANGHAI_APP, MembershipFactory, UserFactory
from tests.plain import problems, vocabulary

from .conftest import DUE, at

pytestmark = pytest.mark.django_db


def body(smtp, address: str) -> str:
    [message] = [m for m in smtp.messages if m["To"] == address]
    return message.get_body(("plain",)).get_content()


def test_a_change_is_told_once_in_the_next_digest(team, make_item, smtp, time_machine):
    organization = team["organization"]
    Membership.objects.filter(user=team["officer"]).update(reminder_language="zh")
    Membership.objects.filter(user=team["admin"]).update(reminder_language="en")
    time_machine.move_to(at(DUE - dt.timedelta(days=10)), tick=False)
    services.profile_update(
        organization=organization, answers=SHANGHAI_APP, unset=[], replace=True, changed_by=team["admin"]
    )
    change = ChecklistChange.objects.get(organization=organization)
    late_joiner = UserFactory(username="late")
    time_machine.move_to(at(DUE - dt.timedelta(days=9)), tick=False)
    MembershipFactory(organization=organization, user=late_joiner, role=Membership.Role.OFFICER)
    make_item()  # due on DUE: everyone is reminded 7 days before

    assert reminders.dispatch(now=at(DUE - dt.timedelta(days=7)))["sent"] == 3

    text = body(smtp, "officer@example.com")
    assert "自上一封邮件以来清单的变化" in text
    assert f"新增 {change.counts['added']} 项" in text and "保存组织画像第1版后更新了清单" in text
    assert f"另有 {change.counts['added'] - reminders.NOTICE_ITEMS} 项" in text
    assert f"/organizations/{organization.pk}/changes/" in text
    assert problems(text, "zh", vocabulary(), ("Acme", "officer", "admin")) == []
    assert "Checklist updated after profile version 1 was saved." in body(smtp, "admin@example.com")
    assert "What changed" not in body(smtp, "late@example.com")  # it happened before they joined
    assert ChangeNotice.objects.filter(change=change).count() == 2

    # The next digest does not tell it again.
    smtp.messages.clear()
    make_item(due=DUE + dt.timedelta(days=1))
    reminders.dispatch(now=at(DUE - dt.timedelta(days=6)))
    assert smtp.messages and all("清单的变化" not in m.get_body(("plain",)).get_content() for m in smtp.messages)
    assert all("What changed" not in m.get_body(("plain",)).get_content() for m in smtp.messages)


def test_a_dropped_digest_gives_its_changes_to_the_next(team, make_item, smtp, time_machine):
    organization = team["organization"]
    Membership.objects.filter(user=team["admin"]).update(reminder_language="en")
    time_machine.move_to(at(DUE - dt.timedelta(days=10)), tick=False)
    services.profile_update(
        organization=organization, answers=SHANGHAI_APP, unset=[], replace=True, changed_by=team["admin"]
    )
    item = make_item()
    reminders.queue_due(now=at(DUE - dt.timedelta(days=7)))
    assert ChangeNotice.objects.count() == 2
    item.status = "done"  # done before the digest went: it is dropped, and tells nothing
    item.save()
    reminders.deliver_pending(now=at(DUE - dt.timedelta(days=7)))
    assert smtp.messages == [] and ChangeNotice.objects.count() == 0
    make_item(due=DUE + dt.timedelta(days=1))
    reminders.dispatch(now=at(DUE - dt.timedelta(days=6)))
    assert "What changed in the checklist since your last email" in body(smtp, "admin@example.com")
