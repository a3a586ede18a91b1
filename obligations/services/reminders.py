"""Deadline reminders, derived at each pass rather than planned in advance.

What is due. A reminder is never stored before it is sent. At each pass, for every open item
with a due date and every member it concerns, the next reminder is worked out from what is
true now: the item (due date, status, assignee), the organization's policy and the member's
preferences (hour, time zone, language, weekday, on or off). So any change, a reminder turned
back on, an item reopened, an hour moved, takes effect at the next pass with nothing to
re-plan. What was sent is kept as a ledger row with a unique key (item, kind, offset, due
date, recipient): the ledger is what makes each reminder go out once.

The rules (``_due_for``): of an item's reminders whose day has come in the member's time
zone, only the latest unsent one goes out (after an outage, one email says where things
stand, not three); an escalation goes with it when its day has come too. Overdue reminders
back off (weekly for the first month, then monthly, by policy) and fall on the member's own
weekday, so that one digest gathers them. One email per item per day and, in the daily mode,
one email per member per day, at the member's hour; the immediate mode sends as soon as the
hour has come, and a reminder missed for an overdue item at once.

Delivery guarantee. A pass takes the organizations chunk by chunk, each chunk's rows locked
(skipping those another worker holds), and in that one transaction writes the ledger rows
and the digests they go into; so two overlapping passes never send one reminder twice. It then
*delivers*: a digest is leased by a conditional update before it is sent, so only one worker
sends it at a time, and marked sent right after the SMTP server accepts it. A worker killed
before that point leaves a lease that expires (``LEASE``), and the next pass sends the digest
then: nothing is lost. SMTP errors are retried with exponential backoff on the same digest and
Message-ID. The one window left is a crash between the SMTP server's acceptance and the
database commit (milliseconds); the copy sent after the lease expires carries the same
Message-ID, which mail systems use to recognize duplicates.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import smtplib
import time
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Any, cast

import urllib3
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import F, Prefetch, Q, prefetch_related_objects
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from config import metrics
from config.links import absolute
from regulations import selectors as catalog
from regulations.deadlines import weekday_name

from .. import selectors
from ..http import Refused
from ..models import (
    ChangeNotice,
    ChecklistChange,
    ChecklistItem,
    ChecklistItemQuerySet,
    Membership,
    Organization,
    Reminder,
    ReminderDigest,
    ReminderPolicy,
)
from ..selectors import member_names
from ..wording import cause_text, change_entries, change_summary, django_language
from . import outbound

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
LATE_AFTER = dt.timedelta(hours=1)
MAX_ATTEMPTS = 10
UNSUBSCRIBE_SALT = "reminders.unsubscribe"
# When the last pass ran, and the last stretch of more than LATE_AFTER with no pass (downtime):
# a reminder whose time fell in that stretch was missed, and its email says so when it goes.
LAST_RUN_KEY = "reminders:last-run"
OUTAGE_KEY = "reminders:last-outage"


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 ... minutes, at most an hour."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def policy_for(organization: Organization) -> ReminderPolicy:
    policy, _ = ReminderPolicy.objects.get_or_create(
        organization=organization, defaults={"days_before": list(ReminderPolicy.DEFAULT_DAYS_BEFORE)}
    )
    return policy


def policies_of(organization_ids: list[int]) -> dict[int, ReminderPolicy]:
    """The organizations' policies in one query; one never changed has the defaults, unsaved."""
    policies = {p.organization_id: p for p in ReminderPolicy.objects.filter(organization_id__in=organization_ids)}
    for pk in set(organization_ids) - policies.keys():
        policies[pk] = ReminderPolicy(organization_id=pk, days_before=list(ReminderPolicy.DEFAULT_DAYS_BEFORE))
    return policies


def aware(value: dt.datetime | str | None, field: str = "now") -> dt.datetime:
    """A pass's moment, from the task, the command or the code: it must say its UTC offset
    (a bare 09:00 is a different instant in Shanghai and Berlin). One rule for every caller."""
    if value is None:
        return timezone.now()
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{field}: '{value}' is not an ISO 8601 date and time.") from None
    if timezone.is_naive(value):
        raise ValueError(f"{field}: '{value.isoformat()}' has no UTC offset; add one, e.g. +08:00.")
    return value


# --- What is due ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One reminder of an item: its kind and its day, as days from the due date."""

    kind: str
    offset: int


def _on_weekday(day: dt.date, weekday: int) -> dt.date:
    """The first day on or after ``day`` that falls on ``weekday`` (0 is Monday)."""
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def overdue_offsets(policy: ReminderPolicy, weekday: int, due: dt.date, until: dt.date) -> list[int]:
    """Days after the due date of the overdue reminders up to ``until``: every
    ``overdue_every_days`` for the first ``overdue_slow_after_days``, then every
    ``overdue_slow_every_days``, each moved forward to the member's weekday."""
    every = policy.overdue_every_days
    if not every:
        return []
    offsets: list[int] = []
    nominal = every
    while (day := _on_weekday(due + dt.timedelta(days=nominal), weekday)) <= until:
        offset = (day - due).days
        if not offsets or offset > offsets[-1]:
            offsets.append(offset)
        nominal += every if nominal < policy.overdue_slow_after_days else max(policy.overdue_slow_every_days, 1)
    return offsets


@dataclass
class _Member:
    """A member as a pass reads them: who is written to, when, in which zone."""

    membership: Membership
    zone: zoneinfo.ZoneInfo
    local: dt.datetime  # the pass's moment on the member's clock

    @property
    def today(self) -> dt.date:
        return self.local.date()

    @property
    def at_hour(self) -> bool:
        return self.local.hour >= self.membership.reminder_hour

    def time_of(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(self.membership.reminder_hour), tzinfo=self.zone)


def _recipients(item: ChecklistItem, writers: list[_Member]) -> list[_Member]:
    """Who is reminded of an item: its assignee if they want reminders, else nobody (they
    chose); unassigned, every officer and admin who wants them."""
    assigned = [m for m in writers if m.membership.user_id == item.assignee_id]
    if assigned:
        return [m for m in assigned if m.membership.reminders_enabled]
    return [m for m in writers if m.membership.reminders_enabled]


def _due_for(
    item: ChecklistItem,
    member: _Member,
    policy: ReminderPolicy,
    *,
    chased: bool,
    escalate: bool,
    sent: set[tuple[str, int]],
) -> list[Point]:
    """The reminders of ``item`` that go to ``member`` now (``sent``: what the ledger holds for
    this item, due date and member). Empty when nothing is due or it is not the time yet."""
    assert item.due_date is not None
    due, today = item.due_date, member.today
    out: list[Point] = []
    if chased:
        regular = [Point(Reminder.Kind.DUE if d == 0 else Reminder.Kind.BEFORE, -d) for d in policy.days_before]
        weekday = member.membership.reminder_weekday
        regular += [Point(Reminder.Kind.OVERDUE, o) for o in overdue_offsets(policy, weekday, due, today)]
        come = [p for p in regular if due + dt.timedelta(days=p.offset) <= today]
        if come:
            latest = max(come, key=lambda p: p.offset)
            newest_sent = max((o for k, o in sent if k != Reminder.Kind.ESCALATION), default=None)
            if newest_sent is None or newest_sent < latest.offset:
                out.append(latest)
    escalation = Point(Reminder.Kind.ESCALATION, policy.escalate_after_days)
    # Escalations are critical: sent to admins even with reminders off, and also for an item
    # that first appears long overdue.
    escalation_day = due + dt.timedelta(days=escalation.offset)
    if escalate and escalation_day <= today and (escalation.kind, escalation.offset) not in sent:
        out.append(escalation)
    if not out or member.at_hour:
        return out
    # Before the member's hour only the immediate mode sends, and only what was missed for an
    # item already overdue; everything else waits for the hour.
    immediate = member.membership.reminder_delivery == Membership.Delivery.IMMEDIATE
    missed = all(due + dt.timedelta(days=p.offset) < today for p in out)
    return out if immediate and due < today and missed else []


@dataclass
class Send:
    """One reminder due now: what the pass writes to the ledger and into a digest."""

    item: ChecklistItem
    member: _Member
    point: Point


ITEM_FIELDS = ("id", "organization_id", "due_date", "status", "superseded_at", "applicability", "track", "assignee_id")


def due_reminders(organization_ids: list[int], now: dt.datetime) -> list[Send]:
    """Every reminder due at ``now`` for these organizations, from the items, policies,
    preferences and ledger as they are. Reads a fixed number of queries, whatever the size."""
    # Officers and admins with an address: viewers are never reminded, nor anyone without one.
    members: dict[int, list[_Member]] = defaultdict(list)
    writing = Membership.objects.filter(organization_id__in=organization_ids).exclude(role=Membership.Role.VIEWER)
    for membership in writing.select_related("user"):
        if membership.user.email:
            zone = zoneinfo.ZoneInfo(membership.reminder_timezone)
            members[membership.organization_id].append(_Member(membership, zone, now.astimezone(zone)))
    if not members:
        return []
    policies = policies_of(list(members))
    # Items whose first reminder may have come anywhere on earth (the earliest policy point of
    # the chunk; _due_for decides each item with its own policy).
    ahead = max((max(p.days_before, default=0) for p in policies.values()), default=0)
    items = list(
        ChecklistItem.objects.filter(
            ChecklistItemQuerySet.actionable_q(),
            organization_id__in=list(members),
            due_date__lte=(now + dt.timedelta(days=2 + ahead)).date(),
        )
        .only(*ITEM_FIELDS)
        .order_by("organization_id", "due_date", "id")
    )
    # The ledger of the items' current due dates, and when each member was last written to
    # about each item (one email per item per day) and at all (one digest per day).
    sent: dict[tuple[int, int], set[tuple[str, int]]] = defaultdict(set)
    last_about: dict[tuple[int, int], dt.datetime] = {}
    for item_id, recipient_id, kind, offset, created in Reminder.objects.filter(
        organization_id__in=list(members), due_date=F("item__due_date")
    ).values_list("item_id", "recipient_id", "kind", "offset_days", "created_at"):
        sent[item_id, recipient_id].add((kind, offset))
        key = (item_id, recipient_id)
        last_about[key] = max(created, last_about.get(key, created))
    last_digest: dict[tuple[int, int], dt.datetime] = {}
    for organization_id, recipient_id, created in (
        ReminderDigest.objects.filter(organization_id__in=list(members), created_at__gte=now - dt.timedelta(days=2))
        .exclude(status=ReminderDigest.Status.DROPPED)
        .values_list("organization_id", "recipient_id", "created_at")
    ):
        key = (organization_id, recipient_id)
        last_digest[key] = max(created, last_digest.get(key, created))

    def written_today(member: _Member, moment: dt.datetime | None) -> bool:
        return moment is not None and moment.astimezone(member.zone).date() == member.today

    out: list[Send] = []
    for item in items:
        writers = members[item.organization_id]
        chased = _recipients(item, writers)
        policy = policies[item.organization_id]
        for member in writers:
            user_id = member.membership.user_id
            is_admin = member.membership.role == Membership.Role.ADMIN
            if written_today(member, last_about.get((item.pk, user_id))):
                continue
            daily = member.membership.reminder_delivery == Membership.Delivery.DAILY
            if daily and written_today(member, last_digest.get((item.organization_id, user_id))):
                continue
            done = sent.get((item.pk, user_id), set())
            for point in _due_for(item, member, policy, chased=member in chased, escalate=is_admin, sent=done):
                out.append(Send(item, member, point))
    return out


# --- A pass --------------------------------------------------------------------------------


def outage(now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """Record this pass and return the last stretch without passes (start, end), if any."""
    last = cache.get(LAST_RUN_KEY)
    if last is not None and now - last > LATE_AFTER:
        cache.set(OUTAGE_KEY, (last, now), timeout=None)
    if last is None or last < now:
        cache.set(LAST_RUN_KEY, now, timeout=None)
    return cache.get(OUTAGE_KEY)


def assemble(
    organization_ids: list[int], *, now: dt.datetime, down: tuple[dt.datetime, dt.datetime] | None = None
) -> int:
    """Write the ledger rows and digests of what is due for these organizations (call inside
    the transaction that holds their rows). Returns how many reminders were taken."""
    sends = due_reminders(organization_ids, now)
    if not sends:
        return 0
    domain = settings.SITE_URL.split("://")[-1].split(":")[0].split("/")[0] or "localhost"
    by_member: dict[tuple[int, int], list[Send]] = defaultdict(list)
    for send in sends:
        by_member[send.item.organization_id, send.member.membership.user_id].append(send)
    digests = ReminderDigest.objects.bulk_create(
        [
            ReminderDigest(
                organization_id=organization_id,
                recipient_id=recipient_id,
                message_id=make_msgid("reminders", domain=domain),
                next_attempt_at=now,
                created_at=now,
            )
            for organization_id, recipient_id in by_member
        ]
    )
    rows = []
    for digest, group in zip(digests, by_member.values(), strict=True):
        for send in group:
            due = send.item.due_date
            assert due is not None  # due_reminders reads dated items only
            at = send.member.time_of(due + dt.timedelta(days=send.point.offset))
            rows.append(
                Reminder(
                    organization_id=send.item.organization_id,
                    item_id=send.item.pk,
                    recipient_id=send.member.membership.user_id,
                    kind=send.point.kind,
                    offset_days=send.point.offset,
                    due_date=due,
                    send_at=at,
                    status=Reminder.Status.QUEUED,
                    digest=digest,
                    # Missed: its time fell while no pass ran.
                    late=down is not None and down[0] < at < down[1],
                    created_at=now,
                )
            )
    Reminder.objects.bulk_create(rows, batch_size=2000)
    metrics.reminders_queued(rows)
    _notices(digests, by_member, now)
    return len(rows)


# How far back a digest tells of checklist changes; older ones are on the What changed page.
NOTICE_WINDOW = dt.timedelta(days=31)


def _notices(digests: list[ReminderDigest], by_member: dict[tuple[int, int], list[Send]], now: dt.datetime) -> None:
    """Put into each new digest the checklist changes of its organization that its recipient
    has not been told of, made since they joined (and within NOTICE_WINDOW)."""
    organization_ids = {organization_id for organization_id, _ in by_member}
    changes = list(
        ChecklistChange.objects.filter(
            organization_id__in=organization_ids, at__gte=now - NOTICE_WINDOW, at__lte=now
        ).values_list("pk", "organization_id", "at")
    )
    if not changes:
        return
    told = set(
        ChangeNotice.objects.filter(change_id__in=[pk for pk, _, _ in changes]).values_list("change_id", "recipient_id")
    )
    notices = []
    for digest, ((organization_id, recipient_id), group) in zip(digests, by_member.items(), strict=True):
        joined = group[0].member.membership.created_at
        notices += [
            ChangeNotice(change_id=pk, recipient_id=recipient_id, digest=digest)
            for pk, of, at in changes
            if of == organization_id and at > joined and (pk, recipient_id) not in told
        ]
    ChangeNotice.objects.bulk_create(notices, batch_size=2000)


def _claim(after: int, chunk: int) -> list[int]:
    """Lock the next ``chunk`` organizations no other pass holds (PostgreSQL skips the locked
    ones; SQLite has one writer at a time anyway)."""
    rows = Organization.objects.filter(pk__gt=after).order_by("pk").only("pk")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    return [o.pk for o in rows[:chunk]]


def queue_due(*, now: dt.datetime, chunk: int = 100) -> int:
    """Work out and queue every due reminder, organizations chunk by chunk (each chunk locked,
    so that workers running it at once share the work). Returns how many were queued."""
    down = outage(now)
    queued, after = 0, 0
    while True:
        with transaction.atomic():
            organizations = _claim(after, chunk)
            if not organizations:
                return queued
            queued += assemble(organizations, now=now, down=down)
            outbound.queue_due(organizations, now=now)  # the same points, for webhooks and chat robots
        after = organizations[-1]


def deliver_pending(*, now: dt.datetime, chunk: int = 100) -> dict[str, int]:
    """Deliver every pending digest whose time has come, ``chunk`` at a time."""
    totals = {"sent": 0, "dropped": 0, "retry": 0, "failed": 0}
    while True:
        counts = deliver(now=now, limit=chunk)
        for key, value in counts.items():
            totals[key] += value
        if not any(counts.values()):
            return totals


def dispatch(*, now: dt.datetime | str | None = None, chunk: int = 100) -> dict[str, int]:
    """One full pass: queue what is due, then deliver it."""
    now = aware(now)
    return {"reminders": queue_due(now=now, chunk=chunk), **deliver_pending(now=now, chunk=chunk)}


# --- Delivery ------------------------------------------------------------------------------


def _still_due(reminder: Reminder) -> bool:
    item = reminder.item
    return item.is_actionable and item.due_date == reminder.due_date


# Large columns a delivery never reads, left out of its queries.
ITEM_TEXTS = ("item__reasons", "item__waiting_for", "item__justification")
OBLIGATION_TEXTS = (
    "item__obligation__conditions",
    "item__obligation__deadline",
    "item__obligation__interpretation",
    "item__obligation__interpretation_zh",
    "item__obligation__instrument__source_text",
    "item__obligation__instrument__summary_en",
    "item__obligation__provision__text",
)


# Digests leased at a time: few enough that a batch is sent well within its lease even when
# the SMTP server takes its whole timeout on each.
LEASE_BATCH = 20


def deliver(*, now: dt.datetime, limit: int = 100) -> dict[str, int]:
    """Send up to ``limit`` pending digests whose time has come, each leased before it is sent."""
    counts = {"sent": 0, "dropped": 0, "retry": 0, "failed": 0}
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    pending = ReminderDigest.objects.filter(free, status=ReminderDigest.Status.PENDING, next_attempt_at__lte=now)
    # The candidates with their organization and recipient, and the recipients' memberships,
    # are read once for the batch.
    digests = list(pending.select_related("organization", "recipient").order_by("next_attempt_at", "id")[:limit])
    memberships = {
        (m.organization_id, m.user_id): m
        for m in Membership.objects.filter(
            organization_id__in={d.organization_id for d in digests}, user_id__in={d.recipient_id for d in digests}
        )
    }
    # One connection to the mail server for the batch, not one per email. A server that cannot
    # be reached now fails each email on its own, which then waits for its retry.
    mailer = get_connection()
    with contextlib.suppress(smtplib.SMTPException, OSError):
        mailer.open()
    try:
        for start in range(0, len(digests), LEASE_BATCH):
            _deliver_batch(digests[start : start + LEASE_BATCH], memberships, mailer, now, counts)
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            mailer.close()
    return counts


def _deliver_batch(
    batch: list[ReminderDigest], memberships: dict[tuple[int, int], Membership], mailer, now: dt.datetime, counts
) -> None:
    leased = _lease([d.pk for d in batch], now)
    # The reminders of every digest leased, in one query rather than one per digest.
    contents: dict[int, list[Reminder]] = defaultdict(list)
    for reminder in (
        Reminder.objects.filter(digest_id__in=list(leased), status=Reminder.Status.QUEUED)
        .select_related("item__organization", "item__obligation__instrument", "item__obligation__provision")
        .defer(*ITEM_TEXTS, *OBLIGATION_TEXTS)
        .order_by("item__due_date", "item_id")
    ):
        contents[cast(int, reminder.digest_id)].append(reminder)
    # The checklist changes each digest tells, with their items: a fixed number of queries.
    told: dict[int, list[ChecklistChange]] = defaultdict(list)
    for notice in (
        ChangeNotice.objects.filter(digest_id__in=list(leased))
        .select_related("change")
        .order_by("change__at", "change_id")
    ):
        told[notice.digest_id].append(notice.change)
    prefetch_related_objects(
        [change for changes in told.values() for change in changes],
        Prefetch("entries", queryset=selectors.change_entries_queryset()),
    )
    for digest in batch:
        if digest.pk in leased:
            digest.attempts, digest.lease_until = leased[digest.pk], now + LEASE
            membership = memberships.get((digest.organization_id, digest.recipient_id))
            counts[_deliver_one(digest, contents[digest.pk], now, membership, mailer, told[digest.pk])] += 1


def _lease(digest_ids: list[int], now: dt.datetime) -> dict[int, int]:
    """Lease the pending digests nobody holds (a conditional update, so one worker wins each).
    Returns the ones leased, with their number of attempts including this one."""
    if not digest_ids:
        return {}
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ReminderDigest._meta.db_table} SET lease_until = %s, attempts = attempts + 1 "  # noqa: S608
            f"WHERE id IN ({', '.join(['%s'] * len(digest_ids))}) AND status = %s "
            "AND (lease_until IS NULL OR lease_until < %s) RETURNING id, attempts",
            [adapt(now + LEASE), *digest_ids, ReminderDigest.Status.PENDING.value, adapt(now)],
        )
        return dict(cursor.fetchall())


def _drop(digest: ReminderDigest, reminder_ids: list[int], channel: str = Membership.Channel.EMAIL) -> str:
    with transaction.atomic():
        Reminder.objects.filter(pk__in=reminder_ids).update(status=Reminder.Status.DROPPED)
        ChangeNotice.objects.filter(digest=digest).delete()  # the next digest tells them instead
        ReminderDigest.objects.filter(pk=digest.pk).update(status=ReminderDigest.Status.DROPPED, lease_until=None)
    metrics.delivery(channel, "dropped")
    return "dropped"


def _deliver_one(
    digest: ReminderDigest,
    reminders: list[Reminder],
    now: dt.datetime,
    membership: Membership | None,
    mailer,
    changes: Sequence[ChecklistChange] = (),
) -> str:
    if membership is None:  # no longer a member (e.g. removed while the digest waited for a retry)
        return _drop(digest, [r.pk for r in reminders])
    live = [r for r in reminders if _still_due(r)]
    dropped = [r.pk for r in reminders if r not in live]
    if not live:
        return _drop(digest, dropped, membership.reminder_channel)
    channel = membership.reminder_channel
    if channel == Membership.Channel.EMAIL:
        message = build_message(digest, live, membership, now, changes)
        message.connection = mailer
        subject = message.subject
        send: Callable[[], object] = message.send
    else:  # the member's chat robot: the same digest in Markdown, told once through this ledger
        subject, (markdown,) = render_digest(digest, live, membership, now, changes, ("obligations/chat/digest.md",))
        robot = (channel, membership.reminder_chat_url, membership.reminder_chat_secret)
        send = functools.partial(outbound.post_chat, *robot, subject, markdown)

    started = time.monotonic()
    try:
        send()
    except (smtplib.SMTPException, OSError, Refused, urllib3.exceptions.HTTPError) as error:
        mailer.close()  # the next email opens a fresh connection
        failed = digest.attempts >= MAX_ATTEMPTS
        ReminderDigest.objects.filter(pk=digest.pk).update(
            status=ReminderDigest.Status.FAILED if failed else ReminderDigest.Status.PENDING,
            next_attempt_at=now + backoff(digest.attempts),
            lease_until=None,
            last_error=f"{type(error).__name__}: {error}"[:2000],
        )
        log = logger.error if failed else logger.warning
        log("reminder digest %s attempt %s failed: %s", digest.message_id, digest.attempts, error)
        metrics.delivery(channel, "failed" if failed else "retry", time.monotonic() - started)
        return "failed" if failed else "retry"
    metrics.delivery(channel, "delivered", time.monotonic() - started)
    metrics.reminders_sent(live, now)
    with transaction.atomic():
        ReminderDigest.objects.filter(pk=digest.pk).update(
            status=ReminderDigest.Status.SENT, sent_at=now, lease_until=None, subject=subject[:300]
        )
        Reminder.objects.filter(pk__in=[r.pk for r in live]).update(status=Reminder.Status.SENT, sent_at=now)
        if dropped:
            Reminder.objects.filter(pk__in=dropped).update(status=Reminder.Status.DROPPED)
    logger.info("reminder digest %s sent to %s (%d items)", digest.message_id, digest.recipient_id, len(live))
    return "sent"


# --- The email -----------------------------------------------------------------------------


def unsubscribe_token(membership: Membership) -> str:
    return signing.dumps(membership.pk, salt=UNSUBSCRIBE_SALT)


def membership_for_unsubscribe(token: str) -> Membership | None:
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Membership.objects.filter(pk=pk).first()


def _moved_off_rest_day(item: ChecklistItem) -> bool:
    steps = (item.due_basis or {}).get("steps") or []
    return any(step.get("code") == "rest_day_moved" and step.get("direction") == "after" for step in steps)


def when_text(days_left: int) -> str:
    """How the due date stands, in the active language: 还剩 3 天 / due today / 2 days overdue."""
    if days_left < 0:
        return ngettext("%(count)s day overdue", "%(count)s days overdue", -days_left) % {"count": -days_left}
    if days_left == 0:
        return gettext("due today")
    return ngettext("%(count)s day left", "%(count)s days left", days_left) % {"count": days_left}


def subject_text(name: str, overdue: int, upcoming: int, escalated: bool) -> str:
    """[Acme] 1 obligation overdue, 2 obligations due soon (in the active language)."""
    parts = []
    if overdue:
        words = ngettext("%(counter)s obligation overdue", "%(counter)s obligations overdue", overdue)
        parts.append(words % {"counter": overdue})
    if upcoming:
        words = ngettext("%(counter)s obligation due soon", "%(counter)s obligations due soon", upcoming)
        parts.append(words % {"counter": upcoming})
    comma = "，" if translation.get_language().startswith("zh") else ", "
    subject = f"[{name}] {comma.join(parts)}"
    mark = gettext("[Escalation]")
    return f"{mark} {subject}" if escalated else subject


# The items a change lists in an email; the rest are on the What changed page it links to.
NOTICE_ITEMS = 10


def render_digest(
    digest: ReminderDigest,
    reminders: list[Reminder],
    membership: Membership,
    now: dt.datetime,
    changes: Sequence[ChecklistChange],
    templates: Sequence[str],
) -> tuple[str, list[str]]:
    """A digest's subject and its ``templates`` rendered, in the reader's language: the email's
    text and HTML, or a chat robot's Markdown."""
    organization = digest.organization
    language = membership.reminder_language
    # Days left and overdue on the reader's own calendar.
    today = now.astimezone(zoneinfo.ZoneInfo(membership.reminder_timezone)).date()
    by_item: dict[int, list[Reminder]] = defaultdict(list)
    for reminder in reminders:
        by_item[reminder.item_id].append(reminder)
    # Every item's page is the checklist's address and its number: one reverse per email.
    checklist_link = absolute("web-checklist", organization.pk)
    with translation.override(django_language(language)):
        rows: list[dict[str, Any]] = []
        for group in by_item.values():
            item, obligation = group[0].item, group[0].item.obligation
            assert item.due_date is not None  # only still-due reminders are built into a message
            days_left = (item.due_date - today).days
            rows.append(
                {
                    "escalated": any(r.kind == Reminder.Kind.ESCALATION for r in group),
                    "late": any(r.late for r in group),
                    "due_date": item.due_date.isoformat(),
                    "weekday": weekday_name(item.due_date, language),
                    "moved": _moved_off_rest_day(item),
                    "overdue": days_left < 0,
                    "when": when_text(days_left),
                    "reference": obligation.reference_in(language),
                    "summary": obligation.summary_in(language),
                    "link": f"{checklist_link}{item.pk}/",
                }
            )
        overdue = sum(1 for row in rows if row["overdue"])
        escalated = any(row["escalated"] for row in rows)
        labels = catalog.labels() if changes else None
        people = member_names(organization) if changes else {}
        told = []
        for change in changes:
            entries = change_entries(change, people, lang=language, labels=labels)
            for entry in entries:
                entry["link"] = f"{checklist_link}{entry['item']}/"
            told.append(
                {
                    "at": change.at.astimezone(zoneinfo.ZoneInfo(membership.reminder_timezone)),
                    "summary": change_summary(change.counts, lang=language),
                    "cause": cause_text(change.cause, lang=language, labels=labels) if change.cause else "",
                    "entries": entries[:NOTICE_ITEMS],
                    "more": max(0, len(entries) - NOTICE_ITEMS),
                }
            )
        context = {
            "organization": organization,
            "rows": rows,
            "escalated": escalated,
            "changes": told,
            "changes_link": absolute("web-changes", organization.pk),
            "preferences_link": absolute("web-preferences", organization.pk),
        }
        subject = subject_text(organization.name, overdue, len(rows) - overdue, escalated)
        return subject, [render_to_string(name, context) for name in templates]


def build_message(
    digest: ReminderDigest,
    reminders: list[Reminder],
    membership: Membership,
    now: dt.datetime,
    changes: Sequence[ChecklistChange] = (),
) -> EmailMultiAlternatives:
    subject, (text, html) = render_digest(
        digest, reminders, membership, now, changes, ("obligations/email/digest.txt", "obligations/email/digest.html")
    )
    link = absolute("reminders-unsubscribe", unsubscribe_token(membership))
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[digest.recipient.email],
        headers={
            "Message-ID": digest.message_id,
            # Unsubscribing stops reminders; escalations to admins still come (they are critical).
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    return message
