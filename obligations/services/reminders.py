"""Deadline reminders: planned as rows, claimed, grouped into digests, sent after commit.

Delivery guarantee. Every reminder is a row with a unique key (item, kind, offset, due date,
recipient), so it is planned once. A pass first *assembles*: in one transaction it moves due,
planned reminders into digests with a conditional update (``status=planned`` -> ``queued``),
so two overlapping passes never put a reminder into two digests. It then *delivers*: a digest
is leased by a conditional update before it is sent, so only one worker sends it at a time,
and marked sent right after the SMTP server accepts it. A worker killed before that point
leaves a lease that expires (``LEASE``), and the next pass sends the digest then: nothing is
lost. SMTP errors are retried with exponential backoff on the same digest and Message-ID.
The one window left is a crash between the SMTP server's acceptance and the database commit
(milliseconds); the copy sent after the lease expires carries the same Message-ID, which
mail systems use to recognize duplicates. So: at least once, and once in every case but that.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from email.utils import make_msgid
from typing import Any, cast

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Exists, Field, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from config.links import absolute

from ..models import (
    ChecklistItem,
    ChecklistItemQuerySet,
    Membership,
    Organization,
    Reminder,
    ReminderDigest,
    ReminderPolicy,
)
from ..wording import django_language

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
LATE_AFTER = dt.timedelta(hours=1)
MAX_ATTEMPTS = 10
UNSUBSCRIBE_SALT = "reminders.unsubscribe"


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 ... minutes, at most an hour."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def policy_for(organization: Organization) -> ReminderPolicy:
    policy, _ = ReminderPolicy.objects.get_or_create(
        organization=organization, defaults={"days_before": list(ReminderPolicy.DEFAULT_DAYS_BEFORE)}
    )
    return policy


# --- Planning ------------------------------------------------------------------------------


def _points(item: ChecklistItem, policy: ReminderPolicy, today: dt.date) -> list[tuple[str, int]]:
    """(kind, days from the due date) for an open item: the policy's days before, then overdue
    reminders every N days up to the next one still to come, and the escalation."""
    assert item.due_date is not None  # the only caller, _wanted, returns early for items without one
    points: list[tuple[str, int]] = [
        (Reminder.Kind.DUE if d == 0 else Reminder.Kind.BEFORE, -d) for d in policy.days_before
    ]
    every = policy.overdue_every_days
    if every:
        # Up to the first one after today: sending one plans the next (see _deliver_one).
        upcoming = max(0, (today - item.due_date).days) // every + 1
        points += [(Reminder.Kind.OVERDUE, k * every) for k in range(1, upcoming + 1)]
    points.append((Reminder.Kind.ESCALATION, policy.escalate_after_days))
    return points


class _Team:
    """An organization's members as planning reads them, prepared once per replan."""

    def __init__(self, members: list[Membership], now: dt.datetime):
        members = [m for m in members if m.user.email]  # nobody to write to otherwise
        self.writers = [m for m in members if m.role != Membership.Role.VIEWER]
        self.admins = [m for m in members if m.role == Membership.Role.ADMIN]
        self.enabled = [m for m in self.writers if m.reminders_enabled]
        # Per member: time zone, hour and that zone's today (no reminder is created for a day
        # already past there).
        self.clock = {}
        for m in members:
            zone = zoneinfo.ZoneInfo(m.reminder_timezone)
            self.clock[m.user_id] = (zone, dt.time(m.reminder_hour), now.astimezone(zone).date())


def _wanted(item, policy, team: _Team, today: dt.date) -> dict[tuple, tuple[dt.datetime, bool]]:
    """The reminders an item calls for: key (item, kind, offset, due date, recipient) -> (send_at,
    whether its day has not yet passed where the recipient is)."""
    if item.due_date is None or not item.is_actionable:
        return {}  # nobody is chased for a duty that may not apply; the questionnaire asks instead
    assigned = [m for m in team.writers if m.user_id == item.assignee_id]
    chased = [m for m in assigned if m.reminders_enabled] if assigned else team.enabled
    wanted = {}
    for kind, offset in _points(item, policy, today):
        # Escalations are critical: sent even to admins who turned reminders off.
        for membership in team.admins if kind == Reminder.Kind.ESCALATION else chased:
            zone, hour, local_today = team.clock[membership.user_id]
            day = item.due_date + dt.timedelta(days=offset)
            key = (item.pk, kind, offset, item.due_date, membership.user_id)
            wanted[key] = (dt.datetime.combine(day, hour, tzinfo=zone), day >= local_today)
    return wanted


def replan(items: Iterable[ChecklistItem], *, now: dt.datetime | None = None) -> tuple[int, int]:
    """Make the planned reminders of these items match their due dates, statuses, assignees
    and the members' preferences: plan what is missing, cancel what no longer fits. Reminders
    already sent are history and stay. Call it inside the transaction that changed the items.
    Returns (planned, cancelled).

    A fixed number of queries whatever the number of items and organizations: policies,
    members, organizations' time zones (unless loaded with the items) and the items' reminders
    are read once each."""
    now = now or timezone.now()
    by_org: dict[int, list[ChecklistItem]] = defaultdict(list)
    for item in items:
        by_org[item.organization_id].append(item)
    if not by_org:
        return 0, 0
    policies = {p.organization_id: p for p in ReminderPolicy.objects.filter(organization_id__in=list(by_org))}
    for organization_id in by_org.keys() - policies.keys():
        policies[organization_id] = policy_for(by_org[organization_id][0].organization)
    members: dict[int, list[Membership]] = defaultdict(list)
    for membership in Membership.objects.filter(organization_id__in=list(by_org)).select_related("user"):
        members[membership.organization_id].append(membership)
    zones = {o: i[0].organization.timezone for o, i in by_org.items() if ChecklistItem.organization.is_cached(i[0])}
    if len(zones) < len(by_org):
        zones |= dict(
            Organization.objects.filter(pk__in=list(by_org.keys() - zones.keys())).values_list("pk", "timezone")
        )

    wanted: dict[tuple, tuple[int, dt.datetime, bool]] = {}  # key -> (organization, send_at, not past)
    for organization_id, org_items in by_org.items():
        policy, team = policies[organization_id], _Team(members[organization_id], now)
        today = now.astimezone(zoneinfo.ZoneInfo(zones[organization_id])).date()
        for item in org_items:
            for key, (send_at, upcoming) in _wanted(item, policy, team, today).items():
                wanted[key] = (organization_id, send_at, upcoming)

    existing: dict[tuple, int] = {}  # planned reminders
    taken: set[tuple] = set()  # every reminder, whatever its status
    item_ids = [item.pk for org_items in by_org.values() for item in org_items]
    for start in range(0, len(item_ids), 10000):
        rows = Reminder.objects.filter(item__in=item_ids[start : start + 10000]).values_list(
            "item_id", "kind", "offset_days", "due_date", "recipient_id", "pk", "status"
        )
        for *row_key, pk, status in rows:
            taken.add(tuple(row_key))
            if status == Reminder.Status.PLANNED:
                existing[tuple(row_key)] = pk
    stale = [pk for key, pk in existing.items() if key not in wanted]
    cancelled = 0
    for start in range(0, len(stale), 10000):
        cancelled += Reminder.objects.filter(
            pk__in=stale[start : start + 10000], status=Reminder.Status.PLANNED
        ).update(status=Reminder.Status.CANCELLED)
    # A planned reminder whose time has passed is kept (it is sent late), but none is created
    # for a day already past: a new item is not reminded of "30 days before". One for today
    # whose hour has passed goes out with the next pass.
    fresh = [(key, o, send_at) for key, (o, send_at, upcoming) in wanted.items() if upcoming and key not in existing]
    # A reminder sent or cancelled earlier under the same key stays as it is: those are not
    # written again (and would be ignored as conflicts). In key order, so that two workers
    # planning the same items wait for each other rather than deadlock.
    _insert(sorted((key, o, s) for key, o, s in fresh if key not in taken))
    return len(fresh), cancelled


INSERT_COLUMNS = ("organization", "item", "recipient", "kind", "offset_days", "due_date", "send_at")


def _insert(rows: list[tuple[tuple, int, dt.datetime]]) -> None:
    """Write planned reminders ((item, kind, offset, due date, recipient), organization, send_at),
    ignoring any whose key another transaction wrote meanwhile."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        reminders = [
            Reminder(organization_id=o, item_id=i, recipient_id=r, kind=k, offset_days=d, due_date=due, send_at=s)
            for (i, k, d, due, r), o, s in rows
        ]
        Reminder.objects.bulk_create(reminders, ignore_conflicts=True, batch_size=1000)
        return
    # PostgreSQL: one statement per 5,000 rows, columns as arrays, sent in binary through the
    # driver's own cursor (same connection and transaction): model instances, bulk_create and
    # text parameters cost several times more than the database's own work for large plans.
    # Concrete fields of Reminder, each with its column; the stubs also allow a reverse relation
    # from get_field and a field without a column.
    fields = [cast("Field[Any, Any]", Reminder._meta.get_field(name)) for name in INSERT_COLUMNS]
    arrays = ", ".join(f"%b::{field.db_type(connection)}[]" for field in fields)
    column_names = ", ".join(cast(str, f.column) for f in fields)
    sql = (
        f"INSERT INTO {Reminder._meta.db_table} ({column_names}, status, late, created_at) "  # noqa: S608
        f"SELECT *, %b, false, %b FROM UNNEST({arrays}) ON CONFLICT DO NOTHING"
    )
    import psycopg  # the PostgreSQL driver, only needed here

    created = timezone.now()
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        for start in range(0, len(rows), 5000):
            batch = rows[start : start + 5000]
            columns = [
                [o for _, o, _ in batch],
                [key[0] for key, _, _ in batch],
                [key[4] for key, _, _ in batch],
                [str(key[1]) for key, _, _ in batch],
                [key[2] for key, _, _ in batch],
                [key[3] for key, _, _ in batch],
                [s for _, _, s in batch],
            ]
            cursor.execute(sql, [Reminder.Status.PLANNED.value, created, *columns])


def replan_organization(organization: Organization) -> tuple[int, int]:
    items = ChecklistItem.objects.filter(organization=organization).select_related("organization")
    wanting = Q(status__in=ChecklistItem.OPEN_STATUSES) | Q(reminders__status=Reminder.Status.PLANNED)
    return replan(items.filter(wanting).distinct())


PLANNING_FIELDS = ("id", "organization_id", "due_date", "status", "superseded_at", "applicability", "assignee_id")


def replan_organizations(organization_ids: list[int], *, now: dt.datetime | None = None, chunk: int = 100) -> dict:
    """What ``replan_organization`` does, for many organizations (a planning pass, e.g. after a
    change of the default policy): ``chunk`` organizations per transaction, reading only the
    items and columns planning needs, so that memory stays flat whatever the number of items.
    Returns the number of items read, reminders planned and reminders cancelled."""
    totals = {"items": 0, "planned": 0, "cancelled": 0}
    # Items that can want a reminder, and items with planned ones (to cancel what no longer
    # fits; a reminder belongs to its item's organization). Any other item would change
    # nothing, so it is not even read: an open item without a due date, for instance, is most
    # of a checklist.
    can_want = ChecklistItemQuerySet.actionable_q() & Q(due_date__isnull=False)
    for start in range(0, len(organization_ids), chunk):
        organizations = organization_ids[start : start + chunk]
        queued = Reminder.objects.filter(organization_id__in=organizations, status=Reminder.Status.PLANNED)
        with transaction.atomic():
            items = list(
                ChecklistItem.objects.filter(organization_id__in=organizations)
                .filter(can_want | Q(pk__in=queued.values("item_id")))
                .only(*PLANNING_FIELDS)
                .order_by()
            )
            planned, cancelled = replan(items, now=now)
        totals["items"] += len(items)
        totals["planned"] += planned
        totals["cancelled"] += cancelled
    return totals


# --- Dispatch ------------------------------------------------------------------------------


def _still_due(reminder: Reminder) -> bool:
    item = reminder.item
    return item.is_actionable and item.due_date == reminder.due_date


# Large columns a pass never reads, left out of its queries (read on access if ever needed).
ITEM_TEXTS = ("item__reasons", "item__due_basis", "item__waiting_for", "item__justification")
OBLIGATION_TEXTS = (
    "item__obligation__conditions",
    "item__obligation__deadline",
    "item__obligation__interpretation",
    "item__obligation__interpretation_zh",
    "item__obligation__instrument__source_text",
    "item__obligation__instrument__summary_en",
    "item__obligation__provision__text",
)


def assemble(*, now: dt.datetime, limit: int = 100) -> int:
    """Put the due reminders of up to ``limit`` recipients into digests. Work is split by
    recipient (their membership row is locked, skipping those another worker holds), so that
    parallel workers never split one person's reminders into two emails. Returns how many
    reminders were taken."""
    due = Reminder.objects.filter(status=Reminder.Status.PLANNED, send_at__lte=now)
    with transaction.atomic():
        candidates = Membership.objects.filter(
            Exists(due.filter(organization=OuterRef("organization"), recipient=OuterRef("user")))
        ).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        recipients = list(candidates[:limit])
        if not recipients:
            return 0
        mine = Q()
        for membership in recipients:
            mine |= Q(organization_id=membership.organization_id, recipient_id=membership.user_id)
        batch = list(
            due.filter(mine).select_related("item", "organization").defer(*ITEM_TEXTS).order_by("send_at", "id")
        )
        finished = [r.pk for r in batch if not _still_due(r)]
        Reminder.objects.filter(pk__in=finished, status=Reminder.Status.PLANNED).update(status=Reminder.Status.DROPPED)
        delivery = {(m.organization_id, m.user_id): m.reminder_delivery for m in recipients}
        groups: dict[tuple, list[Reminder]] = defaultdict(list)
        for reminder in batch:
            if reminder.pk in finished:
                continue
            separate = delivery[reminder.organization_id, reminder.recipient_id] == Membership.Delivery.IMMEDIATE
            groups[reminder.organization_id, reminder.recipient_id, reminder.pk if separate else None].append(reminder)
        domain = settings.SITE_URL.split("://")[-1].split(":")[0].split("/")[0] or "localhost"
        for (organization_id, recipient_id, _), reminders in groups.items():
            digest = ReminderDigest.objects.create(
                organization_id=organization_id,
                recipient_id=recipient_id,
                message_id=make_msgid("reminders", domain=domain),
                next_attempt_at=now,
            )
            ids = [r.pk for r in reminders]
            # Late: planned ahead of its time but not sent until well after it (downtime). One
            # planned today for an hour already past is not late.
            late = [r.pk for r in reminders if r.created_at <= r.send_at < now - LATE_AFTER]
            # Conditional, for databases without row locks: a reminder another pass queued
            # meanwhile is not taken twice.
            taken = Reminder.objects.filter(pk__in=ids, status=Reminder.Status.PLANNED).update(
                status=Reminder.Status.QUEUED, digest=digest
            )
            Reminder.objects.filter(pk__in=late, digest=digest).update(late=True)
            if not taken:
                digest.delete()
        return len(batch)


def deliver(*, now: dt.datetime, limit: int = 100) -> dict[str, int]:
    """Send up to ``limit`` pending digests whose time has come. Each is leased first."""
    counts = {"sent": 0, "dropped": 0, "retry": 0, "failed": 0}
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    pending = ReminderDigest.objects.filter(free, status=ReminderDigest.Status.PENDING, next_attempt_at__lte=now)
    # The candidates with their organization and recipient, and the recipients' memberships,
    # are read once for the batch: two queries fewer per digest.
    digests = list(pending.select_related("organization", "recipient").order_by("next_attempt_at", "id")[:limit])
    memberships = {
        (m.organization_id, m.user_id): m
        for m in Membership.objects.filter(
            organization_id__in={d.organization_id for d in digests}, user_id__in={d.recipient_id for d in digests}
        )
    }
    for digest in digests:
        attempts = _lease(digest.pk, now)
        if attempts is not None:
            digest.attempts, digest.lease_until = attempts, now + LEASE
            membership = memberships.get((digest.organization_id, digest.recipient_id))
            counts[_deliver_one(digest, now, membership)] += 1
    return counts


def _lease(digest_id: int, now: dt.datetime) -> int | None:
    """Lease a pending digest nobody holds (a conditional update, so one worker wins). Returns
    its number of attempts including this one, or None if it is not free."""
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ReminderDigest._meta.db_table} SET lease_until = %s, attempts = attempts + 1 "  # noqa: S608
            "WHERE id = %s AND status = %s AND (lease_until IS NULL OR lease_until < %s) RETURNING attempts",
            [adapt(now + LEASE), digest_id, ReminderDigest.Status.PENDING.value, adapt(now)],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _deliver_one(digest: ReminderDigest, now: dt.datetime, membership: Membership | None) -> str:
    reminders = list(
        digest.reminders.filter(status=Reminder.Status.QUEUED)
        .select_related("item__organization", "item__obligation__instrument", "item__obligation__provision")
        .defer(*ITEM_TEXTS, *OBLIGATION_TEXTS)
        .order_by("item__due_date", "item_id")
    )
    live = [r for r in reminders if _still_due(r)]
    dropped = [r.pk for r in reminders if r not in live]
    if not live:
        with transaction.atomic():
            Reminder.objects.filter(pk__in=dropped).update(status=Reminder.Status.DROPPED)
            ReminderDigest.objects.filter(pk=digest.pk).update(status=ReminderDigest.Status.DROPPED, lease_until=None)
        return "dropped"
    message = build_message(digest, live, membership, now)
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        failed = digest.attempts >= MAX_ATTEMPTS
        ReminderDigest.objects.filter(pk=digest.pk).update(
            status=ReminderDigest.Status.FAILED if failed else ReminderDigest.Status.PENDING,
            next_attempt_at=now + backoff(digest.attempts),
            lease_until=None,
            last_error=f"{type(error).__name__}: {error}"[:2000],
        )
        log = logger.error if failed else logger.warning
        log("reminder digest %s attempt %s failed: %s", digest.message_id, digest.attempts, error)
        return "failed" if failed else "retry"
    with transaction.atomic():
        ReminderDigest.objects.filter(pk=digest.pk).update(
            status=ReminderDigest.Status.SENT, sent_at=now, lease_until=None, subject=message.subject[:300]
        )
        Reminder.objects.filter(pk__in=[r.pk for r in live]).update(status=Reminder.Status.SENT, sent_at=now)
        Reminder.objects.filter(pk__in=dropped).update(status=Reminder.Status.DROPPED)
        # The next overdue reminder of each item is planned once this one has gone out.
        replan([r.item for r in live if r.kind == Reminder.Kind.OVERDUE], now=now)
    logger.info("reminder digest %s sent to %s (%d items)", digest.message_id, digest.recipient_id, len(live))
    return "sent"


def dispatch(*, now: dt.datetime | None = None, chunk: int = 100) -> dict[str, int]:
    """One full pass: assemble every due reminder, then deliver every pending digest, chunk by
    chunk so that several workers running it at once share the work."""
    now = now or timezone.now()
    totals = {"reminders": 0, "sent": 0, "dropped": 0, "retry": 0, "failed": 0}
    while taken := assemble(now=now, limit=chunk):
        totals["reminders"] += taken
    while True:
        counts = deliver(now=now, limit=chunk)
        for key, value in counts.items():
            totals[key] += value
        if not any(counts.values()):
            return totals


# --- The email -----------------------------------------------------------------------------


def unsubscribe_token(membership: Membership) -> str:
    return signing.dumps(membership.pk, salt=UNSUBSCRIBE_SALT)


def membership_for_unsubscribe(token: str) -> Membership | None:
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Membership.objects.filter(pk=pk).first()


def build_message(
    digest: ReminderDigest, reminders: list[Reminder], membership: Membership | None, now: dt.datetime
) -> EmailMultiAlternatives:
    organization = digest.organization
    language = membership.reminder_language if membership else "zh"
    today = now.astimezone(zoneinfo.ZoneInfo(organization.timezone)).date()
    # After downtime several reminders of one item can meet in a digest (7 days before, 1 day
    # before...): the item is listed once, as its latest reminder describes it.
    latest: dict[int, Reminder] = {}
    for reminder in reminders:
        if reminder.item_id not in latest or reminder.offset_days > latest[reminder.item_id].offset_days:
            latest[reminder.item_id] = reminder
    rows: list[dict[str, Any]] = []
    for reminder in latest.values():
        item, obligation = reminder.item, reminder.item.obligation
        # Only still-due reminders are built into a message (_still_due): the item's due date is the reminder's.
        assert item.due_date is not None
        rows.append(
            {
                "kind": reminder.kind,
                "late": reminder.late,
                "due_date": item.due_date,
                "days_left": (item.due_date - today).days,
                "days_overdue": (today - item.due_date).days,
                "reference": obligation.reference_in(language),
                "summary": obligation.summary_in(language),
                "link": absolute("web-item", organization.pk, item.pk),
            }
        )
    escalation = any(r.kind == Reminder.Kind.ESCALATION for r in reminders)
    overdue = sum(1 for row in rows if row["days_overdue"] > 0)
    context = {
        "organization": organization,
        "rows": rows,
        "overdue": overdue,
        "upcoming": len(rows) - overdue,
        "escalation": escalation,
        "preferences_link": absolute("web-preferences", organization.pk),
    }
    with translation.override(django_language(language)):
        subject = render_to_string("obligations/email/subject.txt", context).strip()
        text = render_to_string("obligations/email/digest.txt", context)
        html = render_to_string("obligations/email/digest.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[digest.recipient.email],
        headers={"Message-ID": digest.message_id},
    )
    message.attach_alternative(html, "text/html")
    if membership and not escalation:
        link = absolute("reminders-unsubscribe", unsubscribe_token(membership))
        message.extra_headers["List-Unsubscribe"] = f"<{link}>"
        message.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message
