"""A year of reminder passes, up to one an hour, for two organizations and members in Shanghai and
Berlin (both daylight-saving switches), with the changes people make along the way and a
three-day outage: the rules hold every day of it."""

import datetime as dt
import itertools
import zoneinfo
from collections import defaultdict

import pytest
from django.core import mail

from obligations import services
from obligations.models import Membership, Reminder, ReminderDigest
from obligations.services import checklist, reminders
from tests.factories import ChecklistItemFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
OUTAGE = (dt.datetime(2026, 9, 10, tzinfo=dt.UTC), dt.datetime(2026, 9, 13, tzinfo=dt.UTC))


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def year(settings, time_machine):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    time_machine.move_to(START, tick=False)
    admin, officer, other = (UserFactory(username=name) for name in ("admin", "officer", "other"))
    acme = OrganizationFactory(admin=admin, name="Acme", slug="acme")
    MembershipFactory(organization=acme, user=officer, role=Membership.Role.OFFICER)
    services.reminder_preferences_update(
        Membership.objects.get(user=officer),
        reminder_timezone="Europe/Berlin",
        reminder_hour=7,
        reminder_language="en",
        reminder_weekday=2,
    )
    services.reminder_preferences_update(Membership.objects.get(user=admin), reminder_hour=9)
    beta = OrganizationFactory(admin=other, name="Beta", slug="beta")
    services.reminder_preferences_update(Membership.objects.get(user=other), reminder_delivery="immediate")
    items = {
        "march": ChecklistItemFactory(organization=acme, due_date=day("2026-03-16"), assignee=officer),
        "june": ChecklistItemFactory(organization=acme, due_date=day("2026-06-30")),
        "left-open": ChecklistItemFactory(organization=acme, due_date=day("2026-02-02"), assignee=officer),
        "outage": ChecklistItemFactory(organization=acme, due_date=day("2026-09-18"), assignee=officer),
        "reopened": ChecklistItemFactory(organization=acme, due_date=day("2026-04-30"), assignee=officer),
        "beta": ChecklistItemFactory(organization=beta, due_date=day("2026-05-20")),
    }
    return {"admin": admin, "officer": officer, "other": other, "acme": acme, "beta": beta, "items": items}


# Passes at the members' hours in both seasons (09:00 Shanghai is 01:00 UTC; 06:00 and 07:00
# Berlin are 04:00 to 06:00) and at hours nobody is due (00:00, 02:00, 12:00 UTC), where any
# email would be a wrong one: seven passes a day, so the year runs in CI's time. Changes still
# happen at their own hours.
PASS_HOURS = frozenset({0, 1, 2, 4, 5, 6, 12})


def run_year(world, time_machine):
    """Passes through 2026 (none during the outage), with people's changes on their days."""
    items, officer, admin = world["items"], world["officer"], world["admin"]
    changes = {
        # The admin turns reminders off in February and back on in March.
        dt.datetime(2026, 2, 10, 3, tzinfo=dt.UTC): lambda: services.reminder_preferences_update(
            Membership.objects.get(user=admin), reminders_enabled=False
        ),
        dt.datetime(2026, 3, 1, 0, tzinfo=dt.UTC): lambda: services.reminder_preferences_update(
            Membership.objects.get(user=admin), reminders_enabled=True
        ),
        # The officer marks an item done by mistake and reopens it the next day.
        dt.datetime(2026, 4, 20, 12, tzinfo=dt.UTC): lambda: mark(items["reopened"], "done"),
        dt.datetime(2026, 4, 21, 12, tzinfo=dt.UTC): lambda: mark(items["reopened"], "open"),
        # The officer moves their hour from 07:00 to 06:00 Berlin in May.
        dt.datetime(2026, 5, 15, 12, tzinfo=dt.UTC): lambda: services.reminder_preferences_update(
            Membership.objects.get(user=officer), reminder_hour=6
        ),
    }

    def mark(item, status):
        item.refresh_from_db()
        checklist.item_update(item, actor=officer, expected_version=item.version, status=status)

    sends = []  # (pass moment, message)
    now = START
    while now < dt.datetime(2027, 1, 1, tzinfo=dt.UTC):
        time_machine.move_to(now, tick=False)
        if now in changes:
            changes[now]()
        if now.hour in PASS_HOURS and not OUTAGE[0] <= now < OUTAGE[1]:
            before = len(mail.outbox)
            reminders.dispatch(now=now)
            sends += [(now, message) for message in mail.outbox[before:]]
        now += dt.timedelta(hours=1)
    return sends


def test_a_year_of_passes_keeps_every_rule(year, time_machine, monkeypatch):
    # Beat runs a pass every 5 minutes, and an hour without one is an outage; passes here are
    # up to 12 hours apart, so only a longer stretch counts as one.
    monkeypatch.setattr(reminders, "LATE_AFTER", dt.timedelta(hours=13))
    sends = run_year(year, time_machine)
    zones = {"admin@example.com": SHANGHAI, "officer@example.com": BERLIN, "other@example.com": SHANGHAI}
    by_day = defaultdict(list)
    for moment, message in sends:
        (to,) = message.to
        by_day[to, moment.astimezone(zones[to]).date()].append((moment, message))

    # Every email once: no Message-ID twice, every digest sent.
    ids = [m.extra_headers["Message-ID"] for _, m in sends]
    assert len(ids) == len(set(ids)) and len(ids) > 40
    assert not ReminderDigest.objects.exclude(status=ReminderDigest.Status.SENT).exists()

    # One email per member per day for the daily members; one email per item per day for all.
    for (to, _), emails in by_day.items():
        if to != "other@example.com":
            assert len(emails) == 1, (to, [m for m, _ in emails])
    per_item_day = defaultdict(int)
    for reminder in Reminder.objects.select_related("recipient"):
        local = reminder.created_at.astimezone(zones[reminder.recipient.email]).date()
        per_item_day[reminder.item_id, reminder.recipient_id, local, reminder.kind == "escalation"] += 1
    assert max(per_item_day.values()) == 1

    # At the member's own hour, across both daylight-saving switches (29 March, 25 October),
    # and the new hour from the day it was set; only the catch-up after the outage is later.
    for moment, message in sends:
        (to,) = message.to
        local = moment.astimezone(zones[to])
        if OUTAGE[1] <= moment < OUTAGE[1] + dt.timedelta(days=1):
            continue
        if to == "officer@example.com":
            assert local.hour == (7 if moment < dt.datetime(2026, 5, 15, 12, tzinfo=dt.UTC) else 6), moment
        elif to == "admin@example.com":
            assert local.hour == 9, moment
    officer_hours = {
        (m.astimezone(BERLIN).utcoffset(), m.astimezone(BERLIN).hour)
        for m, msg in sends
        if msg.to == ["officer@example.com"]
    }
    assert {offset for offset, _ in officer_hours} == {dt.timedelta(hours=1), dt.timedelta(hours=2)}

    def reminded(item, who):
        return sorted(
            (r.kind, r.offset_days)
            for r in Reminder.objects.filter(item=year["items"][item], recipient=year[who], status="sent")
        )

    # The item due in March: 30, 7 and 1 days before and on the day, nothing after it was...
    assert reminded("march", "officer")[:4] == [("before", -30), ("before", -7), ("before", -1), ("due", 0)]
    # ...and the one left open is never forgotten: weekly for a month on the officer's
    # Wednesday, then monthly, to the end of the year, with the admins told once.
    overdue = [o for kind, o in reminded("left-open", "officer") if kind == "overdue"]
    assert overdue[:5] == [9, 16, 23, 30, 37] and len(overdue) >= 14
    gaps = [b - a for a, b in itertools.pairwise(overdue)]
    assert max(gaps) <= 35 and all((day("2026-02-02") + dt.timedelta(days=o)).weekday() == 2 for o in overdue)
    assert reminded("left-open", "admin") == [("escalation", 7)]

    # Reminders turned off and on again come back: the June item (unassigned) reaches the admin.
    assert ("before", -30) in reminded("june", "admin")
    # The item reopened after a mistaken "done" is reminded again before its due date.
    assert ("before", -7) in reminded("reopened", "officer")

    # The outage (10 to 12 September) swallowed the 7-day reminder of the September item: it is
    # sent once, afterwards, marked late.
    late = Reminder.objects.get(item=year["items"]["outage"], recipient=year["officer"], offset_days=-7)
    assert late.late and late.created_at >= OUTAGE[1], (late.created_at, late.send_at, late.kind)
    assert (
        Reminder.objects.filter(late=True).count()
        == Reminder.objects.filter(
            late=True, created_at__gte=OUTAGE[1], created_at__lt=OUTAGE[1] + dt.timedelta(days=1)
        ).count()
    )

    # Organizations never see each other's items.
    beta_item = year["items"]["beta"]
    assert set(Reminder.objects.filter(item=beta_item).values_list("recipient__username", flat=True)) == {"other"}
    assert set(Reminder.objects.filter(recipient=year["other"]).values_list("item_id", flat=True)) == {beta_item.pk}
