"""Which reminders are planned, and how they follow the changes that cause them."""

import datetime as dt

import pytest

from obligations import services
from obligations.models import Membership, Reminder
from obligations.services import checklist, reminders

from .conftest import DUE, at

pytestmark = pytest.mark.django_db


def planned(item):
    return sorted(
        (r.recipient.username, r.kind, r.offset_days, r.send_at)
        for r in Reminder.objects.filter(item=item, status=Reminder.Status.PLANNED).select_related("recipient")
    )


def test_default_policy_reminds_the_assignee_30_7_1_days_before_and_on_the_day(team, make_item):
    item = make_item(assignee=team["officer"])
    got = planned(item)
    assert [(kind, offset, send_at) for who, kind, offset, send_at in got if who == "officer"] == [
        ("before", -30, at(DUE - dt.timedelta(days=30))),
        ("before", -7, at(DUE - dt.timedelta(days=7))),
        ("before", -1, at(DUE - dt.timedelta(days=1))),
        ("due", 0, at(DUE)),
        ("overdue", 7, at(DUE + dt.timedelta(days=7))),
    ]
    kinds = {(who, kind, offset) for who, kind, offset, _ in got}
    assert ("admin", "escalation", 7) in kinds  # escalations go to admins
    assert not any(who == "viewer" for who, *_ in got)
    assert not any(who == "admin" and kind != "escalation" for who, kind, *_ in got)


def test_unassigned_items_remind_every_admin_and_officer_but_not_viewers(team, make_item):
    recipients = {who for who, *_ in planned(make_item())}
    assert recipients == {"admin", "officer"}


def test_member_preferences_set_the_local_hour_and_time_zone(team, make_item):
    membership = Membership.objects.get(user=team["officer"])
    services.reminder_preferences_update(membership, reminder_hour=17, reminder_timezone="Europe/Berlin")
    item = make_item(assignee=team["officer"])
    due_reminder = Reminder.objects.get(item=item, kind="due", recipient=team["officer"])
    assert due_reminder.send_at.astimezone(dt.UTC) == dt.datetime(2027, 3, 15, 16, 0, tzinfo=dt.UTC)


def test_completing_an_item_cancels_its_planned_reminders_in_the_same_change(team, make_item):
    item = make_item(assignee=team["officer"])
    checklist.item_update(item, actor=team["officer"], expected_version=item.version, status="done")
    assert planned(item) == []
    assert Reminder.objects.filter(item=item, status=Reminder.Status.CANCELLED).count() >= 5


def test_changing_the_assignee_moves_the_reminders(team, make_item):
    item = make_item(assignee=team["officer"])
    checklist.item_update(item, actor=team["admin"], expected_version=item.version, assignee=team["admin"])
    recipients = {who for who, kind, *_ in planned(item) if kind != "escalation"}
    assert recipients == {"admin"}


def test_a_moved_due_date_cancels_the_old_reminders_and_plans_new_ones(team, make_item):
    item = make_item(assignee=team["officer"])
    item.due_date = DUE + dt.timedelta(days=10)
    item.save()
    reminders.replan([item], now=at(DUE - dt.timedelta(days=60)))
    assert {r.due_date for r in Reminder.objects.filter(item=item, status=Reminder.Status.PLANNED)} == {item.due_date}
    assert Reminder.objects.filter(item=item, due_date=DUE, status=Reminder.Status.CANCELLED).exists()


def test_no_reminder_is_planned_for_a_day_already_past(team, make_item):
    item = make_item(assignee=team["officer"], now=at(DUE - dt.timedelta(days=3), 12))
    offsets = {offset for _, kind, offset, _ in planned(item) if kind in ("before", "due")}
    assert offsets == {-1, 0}


def test_reminders_off_stops_reminders_but_not_escalations(team, make_item):
    admin = Membership.objects.get(user=team["admin"])
    services.reminder_preferences_update(admin, reminders_enabled=False)
    item = make_item()
    kinds = {(who, kind) for who, kind, *_ in planned(item)}
    assert ("admin", "escalation") in kinds
    assert not any(who == "admin" and kind != "escalation" for who, kind in kinds)


def test_policy_change_replans(team, make_item):
    item = make_item(assignee=team["officer"])
    services.reminder_policy_update(team["organization"], days_before=[14, 0], overdue_every_days=0)
    offsets = {(kind, offset) for who, kind, offset, _ in planned(item) if who == "officer"}
    assert offsets == {("before", -14), ("due", 0)}
