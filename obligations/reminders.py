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

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import ChecklistItem, Membership, Organization, Reminder, ReminderDigest, ReminderPolicy

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
LATE_AFTER = dt.timedelta(hours=1)
MAX_ATTEMPTS = 10
OPEN = (ChecklistItem.Status.OPEN, ChecklistItem.Status.IN_PROGRESS)
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


def _send_at(day: dt.date, membership: Membership) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(membership.reminder_hour))
    return local.replace(tzinfo=zoneinfo.ZoneInfo(membership.reminder_timezone))


def _points(item: ChecklistItem, policy: ReminderPolicy, today: dt.date) -> list[tuple[str, int]]:
    """(kind, days from the due date) for an open item: the policy's days before, then overdue
    reminders every N days up to the next one still to come, and the escalation."""
    points = [(Reminder.Kind.DUE if d == 0 else Reminder.Kind.BEFORE, -d) for d in policy.days_before]
    every = policy.overdue_every_days
    if every:
        # Up to the first one after today: sending one plans the next (see _deliver_one).
        upcoming = max(0, (today - item.due_date).days) // every + 1
        points += [(Reminder.Kind.OVERDUE, k * every) for k in range(1, upcoming + 1)]
    points.append((Reminder.Kind.ESCALATION, policy.escalate_after_days))
    return points


def _wanted(item, policy, members: list[Membership], today: dt.date) -> dict[tuple, Reminder]:
    if item.due_date is None or item.status not in OPEN or item.superseded_at is not None:
        return {}
    if item.applicability != ChecklistItem.Applicability.APPLIES:
        return {}  # nobody is chased for a duty that may not apply; the questionnaire asks instead
    members = [m for m in members if m.user.email]  # nobody to write to otherwise
    writers = [m for m in members if m.role != Membership.Role.VIEWER]
    assigned = [m for m in writers if m.user_id == item.assignee_id]
    admins = [m for m in members if m.role == Membership.Role.ADMIN]
    wanted = {}
    for kind, offset in _points(item, policy, today):
        if kind == Reminder.Kind.ESCALATION:
            recipients = admins  # critical: sent even to admins who turned reminders off
        else:
            recipients = [m for m in (assigned or writers) if m.reminders_enabled]
        for membership in recipients:
            key = (item.pk, kind, offset, item.due_date, membership.user_id)
            wanted[key] = Reminder(
                organization_id=item.organization_id,
                item=item,
                recipient_id=membership.user_id,
                kind=kind,
                offset_days=offset,
                due_date=item.due_date,
                send_at=_send_at(item.due_date + dt.timedelta(days=offset), membership),
            )
    return wanted


def replan(items: Iterable[ChecklistItem], *, now: dt.datetime | None = None) -> tuple[int, int]:
    """Make the planned reminders of these items match their due dates, statuses, assignees
    and the members' preferences: plan what is missing, cancel what no longer fits. Reminders
    already sent are history and stay. Call it inside the transaction that changed the items.
    Returns (planned, cancelled)."""
    now = now or timezone.now()
    by_org: dict[int, list[ChecklistItem]] = defaultdict(list)
    for item in items:
        by_org[item.organization_id].append(item)
    planned = cancelled = 0
    for organization_id, org_items in by_org.items():
        organization = org_items[0].organization
        policy = policy_for(organization)
        members = list(Membership.objects.filter(organization_id=organization_id).select_related("user"))
        today = now.astimezone(zoneinfo.ZoneInfo(organization.timezone)).date()
        wanted: dict[tuple, Reminder] = {}
        for item in org_items:
            wanted.update(_wanted(item, policy, members, today))
        existing = {
            (r.item_id, r.kind, r.offset_days, r.due_date, r.recipient_id): r.pk
            for r in Reminder.objects.filter(item__in=[i.pk for i in org_items], status=Reminder.Status.PLANNED)
        }
        stale = [pk for key, pk in existing.items() if key not in wanted]
        cancelled += Reminder.objects.filter(pk__in=stale, status=Reminder.Status.PLANNED).update(
            status=Reminder.Status.CANCELLED
        )
        # A planned reminder whose time has passed is kept (it is sent late), but none is created
        # for a day already past: a new item is not reminded of "30 days before". One for today
        # whose hour has passed goes out with the next pass.
        fresh = [
            r
            for key, r in wanted.items()
            if key not in existing and r.send_at.date() >= now.astimezone(r.send_at.tzinfo).date()
        ]
        # ignore_conflicts: a reminder sent or cancelled earlier under the same key stays as it is.
        Reminder.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=1000)
        planned += len(fresh)
    return planned, cancelled


def replan_organization(organization: Organization) -> tuple[int, int]:
    items = ChecklistItem.objects.filter(organization=organization).select_related("organization")
    return replan(items.filter(Q(status__in=OPEN) | Q(reminders__status=Reminder.Status.PLANNED)).distinct())


# --- Dispatch ------------------------------------------------------------------------------


def _still_due(reminder: Reminder) -> bool:
    item = reminder.item
    return (
        item.status in OPEN
        and item.superseded_at is None
        and item.applicability == ChecklistItem.Applicability.APPLIES
        and item.due_date == reminder.due_date
    )


def assemble(*, now: dt.datetime, limit: int = 100) -> int:
    """Put the due reminders of up to ``limit`` recipients into digests. Work is split by
    recipient (their membership row is locked, skipping those another worker holds), so that
    parallel workers never split one person's reminders into two emails. Returns how many
    reminders were taken."""
    due = Reminder.objects.filter(status=Reminder.Status.PLANNED, send_at__lte=now)
    with transaction.atomic():
        recipients = Membership.objects.filter(
            Exists(due.filter(organization=OuterRef("organization"), recipient=OuterRef("user")))
        ).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            recipients = recipients.select_for_update(skip_locked=True)
        recipients = list(recipients[:limit])
        if not recipients:
            return 0
        mine = Q()
        for membership in recipients:
            mine |= Q(organization_id=membership.organization_id, recipient_id=membership.user_id)
        batch = list(due.filter(mine).select_related("item", "organization").order_by("send_at", "id"))
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
    for digest_id in list(pending.order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit]):
        leased = ReminderDigest.objects.filter(free, pk=digest_id, status=ReminderDigest.Status.PENDING).update(
            lease_until=now + LEASE, attempts=F("attempts") + 1
        )
        if leased:
            digest = ReminderDigest.objects.select_related("organization", "recipient").get(pk=digest_id)
            counts[_deliver_one(digest, now)] += 1
    return counts


def _deliver_one(digest: ReminderDigest, now: dt.datetime) -> str:
    reminders = list(
        digest.reminders.filter(status=Reminder.Status.QUEUED)
        .select_related("item__obligation__instrument", "item__obligation__provision")
        .order_by("item__due_date", "item_id")
    )
    live = [r for r in reminders if _still_due(r)]
    dropped = [r.pk for r in reminders if r not in live]
    if not live:
        with transaction.atomic():
            Reminder.objects.filter(pk__in=dropped).update(status=Reminder.Status.DROPPED)
            ReminderDigest.objects.filter(pk=digest.pk).update(status=ReminderDigest.Status.DROPPED, lease_until=None)
        return "dropped"
    membership = Membership.objects.filter(organization=digest.organization, user=digest.recipient).first()
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
    rows = []
    for reminder in latest.values():
        item, obligation = reminder.item, reminder.item.obligation
        rows.append(
            {
                "kind": reminder.kind,
                "late": reminder.late,
                "due_date": item.due_date,
                "days_left": (item.due_date - today).days,
                "days_overdue": (today - item.due_date).days,
                "instrument": obligation.instrument.title_zh if language == "zh" else obligation.instrument.title_en,
                "provision": obligation.provision.label,
                "summary": obligation.quote_zh if language == "zh" else obligation.summary_en,
                "link": f"{settings.SITE_URL}/organizations/{organization.pk}/checklist/{item.pk}/",
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
        "preferences_link": f"{settings.SITE_URL}/organizations/{organization.pk}/preferences/",
    }
    with translation.override("zh-hans" if language == "zh" else "en"):
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
        link = f"{settings.SITE_URL}/reminders/unsubscribe/{unsubscribe_token(membership)}/"
        message.extra_headers["List-Unsubscribe"] = f"<{link}>"
        message.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message
