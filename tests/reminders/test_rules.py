"""Which reminders are due when: worked out at each pass from the item, the policy, the
member's preferences and the ledger of what was sent, so that every change counts at once."""

import datetime as dt
import io
import zoneinfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from obligations import services, tasks
from obligations.models import Membership, Reminder, ReminderPolicy
from obligations.services import checklist, reminders

from .conftest import DUE, at

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def due(team, now):
    """What a pass at ``now`` would send, as (member, kind, offset) triples."""
    sends = reminders.due_reminders([team["organization"].pk], now)
    return sorted((s.member.membership.user.username, s.point.kind, s.point.offset) for s in sends)


def sent(team, now):
    """Run a pass and return what it sent."""
    before = set(Reminder.objects.values_list("pk", flat=True))
    reminders.dispatch(now=now)
    rows = Reminder.objects.exclude(pk__in=before).select_related("recipient")
    return sorted((r.recipient.username, r.kind, r.offset_days) for r in rows)


def days(n):
    return dt.timedelta(days=n)


def preferences(team, who, **fields):
    return services.reminder_preferences_update(Membership.objects.get(user=team[who]), **fields)


def test_default_policy_reminds_the_assignee_30_7_1_days_before_on_the_day_and_escalates_to_admins(team, make_item):
    make_item(assignee=team["officer"])
    assert due(team, at(DUE - days(31))) == []
    for offset in (30, 7, 1):
        assert due(team, at(DUE - days(offset))) == [("officer", "before", -offset)]
        sent(team, at(DUE - days(offset)))
    assert due(team, at(DUE)) == [("officer", "due", 0)]
    sent(team, at(DUE))
    # DUE is a Monday, the members' default weekday: the first overdue reminder a week later,
    # and the admins' escalation on the same day.
    assert due(team, at(DUE + days(7))) == [("admin", "escalation", 7), ("officer", "overdue", 7)]


def test_unassigned_items_remind_every_admin_and_officer_but_not_viewers(team, make_item):
    make_item()
    assert {who for who, *_ in due(team, at(DUE))} == {"admin", "officer"}


def test_nothing_before_the_members_hour_in_their_own_time_zone(team, make_item):
    preferences(team, "officer", reminder_hour=17, reminder_timezone="Europe/Berlin")
    make_item(assignee=team["officer"])
    berlin_due = dt.datetime.combine(DUE, dt.time(17), tzinfo=BERLIN)
    assert due(team, berlin_due - dt.timedelta(minutes=1)) == []
    assert due(team, berlin_due) == [("officer", "due", 0)]


def test_a_new_item_is_reminded_of_where_it_stands_once_not_of_every_point_it_missed(team, make_item):
    make_item(assignee=team["officer"])
    # First seen three days before its due date: one reminder (the 7-day one), then the next.
    assert sent(team, at(DUE - days(3))) == [("officer", "before", -7)]
    assert due(team, at(DUE - days(2))) == []
    assert due(team, at(DUE - days(1))) == [("officer", "before", -1)]


# --- Defect 1: a reminder that stopped is never planned again ---------------------------------


def test_reminders_turned_back_on_resume_at_the_next_point(team, make_item):
    make_item(assignee=team["officer"])
    preferences(team, "officer", reminders_enabled=False)
    assert due(team, at(DUE - days(7))) == []
    preferences(team, "officer", reminders_enabled=True)
    assert due(team, at(DUE - days(7))) == [("officer", "before", -7)]


def test_unsubscribing_then_turning_reminders_on_again_resumes_them(team, make_item, client):
    make_item(assignee=team["officer"])
    membership = Membership.objects.get(user=team["officer"])
    client.post(f"/reminders/unsubscribe/{reminders.unsubscribe_token(membership)}/")
    assert due(team, at(DUE - days(1))) == []
    preferences(team, "officer", reminders_enabled=True)
    assert due(team, at(DUE - days(1))) == [("officer", "before", -1)]


def test_an_item_reopened_after_a_mistaken_done_is_reminded_again(team, make_item):
    item = make_item(assignee=team["officer"])
    sent(team, at(DUE - days(7)))
    item = checklist.item_update(item, actor=team["officer"], expected_version=item.version, status="done")
    assert due(team, at(DUE - days(1))) == []
    checklist.item_update(item, actor=team["officer"], expected_version=item.version, status="open")
    assert due(team, at(DUE - days(1))) == [("officer", "before", -1)]


def test_reassigning_back_and_forth_and_unassigning_keeps_someone_reminded(team, make_item):
    item = make_item(assignee=team["officer"])
    item = checklist.item_update(item, actor=team["admin"], expected_version=item.version, assignee=team["admin"])
    assert due(team, at(DUE - days(7))) == [("admin", "before", -7)]
    item = checklist.item_update(item, actor=team["admin"], expected_version=item.version, assignee=team["officer"])
    assert due(team, at(DUE - days(7))) == [("officer", "before", -7)]
    checklist.item_update(item, actor=team["admin"], expected_version=item.version, assignee=None)
    assert due(team, at(DUE - days(7))) == [("admin", "before", -7), ("officer", "before", -7)]


def test_a_reverted_policy_change_brings_the_reminders_back(team, make_item):
    make_item(assignee=team["officer"])
    services.reminder_policy_update(team["organization"], days_before=[14])
    assert due(team, at(DUE - days(7))) == [("officer", "before", -14)]  # the latest point that has come
    services.reminder_policy_update(team["organization"], days_before=[30, 7, 1, 0])
    assert due(team, at(DUE - days(7))) == [("officer", "before", -7)]


# --- Defect 2: changing one's hour or time zone moves what is due -----------------------------


def test_a_new_hour_and_time_zone_count_from_the_next_pass(team, make_item):
    make_item(assignee=team["officer"])
    preferences(team, "officer", reminder_hour=8, reminder_timezone="Europe/Berlin")
    # Moved from 08:00 to 07:00 Berlin: the 7-day reminder comes at 07:00 Berlin.
    preferences(team, "officer", reminder_hour=7)
    seven = dt.datetime.combine(DUE - days(7), dt.time(7), tzinfo=BERLIN)
    assert due(team, seven - dt.timedelta(minutes=1)) == []
    assert due(team, seven) == [("officer", "before", -7)]


# --- Defect 4 and the overdue back-off ------------------------------------------------------


def test_escalation_and_overdue_reminder_of_one_item_go_out_together(team, make_item, smtp):
    make_item()  # unassigned: the admin is both reminded and told of the escalation
    preferences(team, "admin", reminder_delivery="immediate")
    reminders.dispatch(now=at(DUE + days(7)))
    to_admin = [m for m in smtp.messages if m["To"] == "admin@example.com"]
    assert len(to_admin) == 1
    assert sorted(Reminder.objects.filter(recipient=team["admin"]).values_list("kind", flat=True)) == [
        "escalation",
        "overdue",
    ]


def test_an_outage_sends_one_email_per_item_not_one_per_missed_reminder(team, make_item, smtp):
    preferences(team, "officer", reminder_delivery="immediate")
    make_item(assignee=team["officer"])
    reminders.dispatch(now=at(DUE - days(30)))
    smtp.messages.clear()
    # Down from the 7-day reminder to after the due date: one email, "1 day overdue".
    assert sent(team, at(DUE + days(1))) == [("officer", "due", 0)]
    assert len(smtp.messages) == 1
    assert "逾期 1 天" in smtp.messages[0].get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    ("every", "slow_after", "slow_every", "weekday", "offsets"),
    [
        # DUE (2027-03-15) is a Monday. Weekly on Mondays for the first month, then monthly.
        (7, 30, 30, 0, [7, 14, 21, 28, 35, 70, 98, 126, 161, 189, 217, 245, 280, 308, 336]),
        # On Fridays: each moved forward to the next Friday; the cadence counts from the
        # unmoved days, so the moves do not add up.
        (7, 30, 30, 4, [11, 18, 25, 32, 39, 67, 95, 130, 158, 186, 221, 249, 277, 305, 340]),
        (0, 30, 30, 0, []),  # no overdue reminders at all
        (7, 0, 28, 2, [9, 37, 65, 93, 121, 149, 177, 205, 233, 261, 289, 317, 345]),
    ],
)
def test_overdue_reminders_back_off_and_fall_on_the_members_weekday(every, slow_after, slow_every, weekday, offsets):
    policy = ReminderPolicy(
        overdue_every_days=every, overdue_slow_after_days=slow_after, overdue_slow_every_days=slow_every
    )
    got = reminders.overdue_offsets(policy, weekday, DUE, DUE + days(365))
    assert got == offsets
    assert all((DUE + days(o)).weekday() == weekday for o in got)


def test_an_item_that_first_appears_long_overdue_is_escalated(team, make_item):
    make_item(due=DUE - days(40), assignee=team["officer"])
    assert ("admin", "escalation", 7) in due(team, at(DUE))


# --- Defects 7 to 10 ------------------------------------------------------------------------


def test_days_left_count_on_the_members_calendar(team, make_item, smtp):
    preferences(team, "officer", reminder_language="en", reminder_hour=18, reminder_timezone="Europe/Berlin")
    make_item(assignee=team["officer"])
    # 18:00 Berlin on the due day is already the next day in Shanghai, the organization's zone.
    reminders.dispatch(now=dt.datetime.combine(DUE, dt.time(18), tzinfo=BERLIN))
    text = smtp.messages[-1].get_body(("plain",)).get_content()
    assert "due today" in text and "overdue" not in text


def test_a_member_removed_while_a_digest_waits_for_a_retry_is_not_written_to(team, make_item, smtp):
    make_item(assignee=team["officer"])
    smtp.refuse = 1
    assert reminders.dispatch(now=at(DUE))["retry"] == 1
    services.membership_remove(Membership.objects.get(user=team["officer"]), actor=team["admin"])
    assert reminders.dispatch(now=at(DUE) + dt.timedelta(minutes=5))["dropped"] == 1
    assert not any(m["To"] == "officer@example.com" for m in smtp.messages)


def test_one_digest_a_day_even_when_an_item_appears_after_the_hour(team, make_item, smtp):
    make_item(assignee=team["officer"])
    reminders.dispatch(now=at(DUE - days(7)))
    make_item(due=DUE - days(7), assignee=team["officer"])  # due today, created at noon
    reminders.dispatch(now=at(DUE - days(7), 12))
    assert len([m for m in smtp.messages if m["To"] == "officer@example.com"]) == 1
    reminders.dispatch(now=at(DUE - days(6)))  # the next morning it comes, one day overdue
    assert len([m for m in smtp.messages if m["To"] == "officer@example.com"]) == 2


@pytest.mark.parametrize("value", ["2027-03-15T09:00", "yesterday"])
def test_a_pass_time_without_a_utc_offset_is_refused_with_the_reason(value):
    with pytest.raises(ValueError, match=r"^now: '.+' (has no UTC offset; add one|is not an ISO 8601)"):
        reminders.aware(value)


def test_emails_give_the_weekday_and_say_when_a_date_was_moved_off_a_rest_day(team, make_item, smtp):
    """Done 3 April 2026, six months on is Saturday 3 October, in the National Day holiday: the
    period runs to Thursday 8 October, and the email says why the date is not the 3rd."""
    moved = make_item(due=dt.date(2026, 10, 8), assignee=team["officer"])
    moved.due_basis = {"steps": [{"code": "rest_day_moved", "direction": "after", "date": "2026-10-08"}]}
    moved.save()
    preferences(team, "officer", reminder_language="en")
    reminders.dispatch(now=at(dt.date(2026, 10, 7)))
    text = smtp.messages[-1].get_body(("plain",)).get_content()
    assert "Due: 2026-10-08 (Thursday) (the period's last day was a rest day" in text
    preferences(team, "officer", reminder_language="zh")
    reminders.dispatch(now=at(dt.date(2026, 10, 8)))
    text = smtp.messages[-1].get_body(("plain",)).get_content()
    assert "2026-10-08 (星期四)" in text and "顺延至其后的第一个工作日" in text


def test_the_command_lists_what_is_due_and_refuses_a_time_without_offset(team, make_item):
    make_item(assignee=team["officer"])
    out = io.StringIO()
    call_command("send_due_reminders", "--dry-run", "--now", "2027-03-08T09:00+08:00", stdout=out)
    assert "officer@example.com: before -7d" in out.getvalue() and "1 reminder(s) due" in out.getvalue()
    assert not Reminder.objects.exists()  # a dry run writes nothing
    with pytest.raises(CommandError, match=r"--now: '2027-03-08T09:00:00' has no UTC offset"):
        call_command("send_due_reminders", "--now", "2027-03-08T09:00")
    with pytest.raises(ValueError, match="has no UTC offset"):
        tasks.dispatch_reminders("2027-03-08T09:00")


def test_one_escalated_item_marks_its_own_row_not_the_whole_digest(team, make_item, smtp):
    make_item(due=DUE - days(7))  # unassigned, a week overdue on DUE: escalated to the admin
    make_item(due=DUE + days(7))  # a week left
    reminders.dispatch(now=at(DUE))
    (digest,) = [m for m in smtp.messages if m["To"] == "admin@example.com"]
    text = digest.get_body(("plain",)).get_content()
    rows = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(rows) == 2 and sum("【已升级】" in row for row in rows) == 1
    assert "还剩 7 天" in text and "已逾期 7 天" in text
    # The digest keeps its way out and its preferences link.
    assert digest["List-Unsubscribe"] is not None and "/preferences/" in text
