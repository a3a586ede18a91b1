"""Events told to an organization's own systems (signed webhooks) and chat groups (WeCom,
DingTalk, Feishu robots).

Recording. An event is written in the transaction of what it tells (an outbox): an item
changed by a person, a sync that changed the checklist, a new catalogue, and, at each reminder
pass, the due-date points of items (``queue_due``: the latest point of the policy that has
come, once per item, point and due date, or the item being overdue, once per due date). Each
event gets a delivery row per endpoint that takes it, with a unique key: the ledger.

Delivering (``deliver``), in steps:
1. An endpoint with deliveries due is leased by a conditional update, so one worker delivers to
   it at a time, in order; a worker that dies leaves a lease that expires (``LEASE``).
2. A webhook gets each event as its own signed POST (Standard Webhooks: ``webhook-id`` is the
   event's id, the same on every retry; ``webhook-timestamp``; ``webhook-signature`` is
   ``v1,`` and Base64 of HMAC-SHA256 over "id.timestamp.body" with the endpoint's secret). A chat
   robot gets all its due events as one Markdown message in its language.
3. A 2xx answer (and for a robot its result code 0) marks the deliveries delivered. Anything
   else is retried on ``RETRY`` (1 minute to 10 hours, eight attempts over about a day), then
   marked failed. An endpoint failing for ``OUTBOUND_DISABLE_AFTER`` without a success is turned
   off; what waits for it is kept and goes when an admin turns it on again.
Delivery is at least once: a crash after the receiver's answer and before the commit sends the
event again with the same id.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import secrets
import time
import zoneinfo
from collections import defaultdict
from typing import Any

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext
from standardwebhooks.webhooks import Webhook

from config import metrics
from config.links import absolute
from regulations.services import KEY_LISTS

from .. import chat
from ..errors import ServiceError, validated
from ..http import Refused, post
from ..models import (
    AuditEvent,
    ChecklistChange,
    ChecklistItem,
    ChecklistItemQuerySet,
    Delivery,
    Endpoint,
    ItemHistory,
    Organization,
    OutboundEvent,
)
from ..selectors import member_names
from ..wording import cause_text, change_summary, django_language, history_text

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
# After the first attempt: the schedule Standard Webhooks suggests, about a day in all.
RETRY = [
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=10),
    dt.timedelta(hours=10),
]
MAX_ATTEMPTS = len(RETRY) + 1
BATCH = 50  # events per endpoint and turn: a chat message, or webhooks sent one after another
LANGUAGES = ("zh", "en")
DUE_EVENTS = (Endpoint.Event.ITEM_DUE_SOON, Endpoint.Event.ITEM_OVERDUE)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


# --- Endpoints ------------------------------------------------------------------------------


@transaction.atomic
def endpoint_create(organization: Organization, *, actor, **fields: Any) -> Endpoint:
    """A webhook gets a secret made here (shown once); a chat robot keeps the one it was given."""
    endpoint = Endpoint(organization=organization, created_by=actor, **fields)
    if endpoint.kind == Endpoint.Kind.WEBHOOK:
        endpoint.secret = new_secret()
    if not endpoint.events:
        endpoint.events = list(Endpoint.Event.values)
    validated(endpoint, exclude=["organization", "created_by"])
    endpoint.save()
    _audit(AuditEvent.Action.ENDPOINT_ADDED, endpoint, actor, {"url": {"from": None, "to": endpoint.url}})
    return endpoint


@transaction.atomic
def endpoint_update(endpoint: Endpoint, *, actor, **fields: Any) -> Endpoint:
    """Turning an endpoint on again clears its failures; what waited for it goes at the next turn."""
    if "kind" in fields and fields["kind"] != endpoint.kind:
        raise ServiceError("kind", gettext("An endpoint's kind cannot change; add a new endpoint instead."))
    if "secret" in fields and endpoint.kind == Endpoint.Kind.WEBHOOK:
        raise ServiceError("secret", gettext("A webhook's secret is made by the service; ask for a new one instead."))
    changes = {
        name: {"from": getattr(endpoint, name), "to": value}
        for name, value in fields.items()
        if getattr(endpoint, name) != value
    }
    if "secret" in changes:  # a robot's secret is kept out of the log
        changes["secret"] = {"from": None, "to": "new"}
    for name, value in fields.items():
        setattr(endpoint, name, value)
    if fields.get("enabled"):
        endpoint.failing_since = endpoint.disabled_at = None
    validated(endpoint, exclude=["organization", "created_by"])
    endpoint.save()
    if changes:
        _audit(AuditEvent.Action.ENDPOINT_CHANGED, endpoint, actor, changes)
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(endpoint: Endpoint, *, actor) -> Endpoint:
    if endpoint.kind != Endpoint.Kind.WEBHOOK:
        raise ServiceError("kind", gettext("Only a webhook has a secret made here; change a robot's secret instead."))
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])
    _audit(AuditEvent.Action.ENDPOINT_CHANGED, endpoint, actor, {"secret": {"from": None, "to": "new"}})
    return endpoint


@transaction.atomic
def endpoint_delete(endpoint: Endpoint, *, actor) -> None:
    _audit(AuditEvent.Action.ENDPOINT_REMOVED, endpoint, actor, {"url": {"from": endpoint.url, "to": None}})
    endpoint.delete()


def _audit(action: str, endpoint: Endpoint, actor, changes: dict) -> None:
    """Endpoints send the organization's checklist out of the service: the access log keeps
    who pointed them where."""
    from .accounts import audit  # accounts imports the reminder pass, which imports this module

    audit(action, actor=actor, organization=endpoint.organization, subject=endpoint.display_name(), changes=changes)


# --- Recording events -----------------------------------------------------------------------


def _subscribed(organization_ids: list[int] | None, *event_types: str) -> dict[int, list[Endpoint]]:
    """The enabled endpoints that take any of ``event_types``, by organization (None: all)."""
    # Few endpoints per organization: their event lists are read here rather than queried with a
    # JSON lookup that SQLite lacks.
    found: dict[int, list[Endpoint]] = defaultdict(list)
    endpoints = Endpoint.objects.filter(enabled=True)
    if organization_ids is not None:
        endpoints = endpoints.filter(organization_id__in=organization_ids)
    for endpoint in endpoints:
        if set(event_types) & set(endpoint.events):
            found[endpoint.organization_id].append(endpoint)
    return found


def _texts(function, *args, **kwargs) -> dict[str, str]:
    """The same words in both languages: a webhook's receiver and each robot choose one."""
    return {lang: function(*args, lang=lang, **kwargs) for lang in LANGUAGES}


def record(organization: Organization, event_type: str, key: str, data: dict, *, now=None) -> OutboundEvent | None:
    """Record an event for the organization's endpoints that take it, once per ``key``; the
    deliveries start after the commit. Returns None if no endpoint takes it or it was recorded."""
    endpoints = _subscribed([organization.pk], event_type).get(organization.pk, [])
    if not endpoints:
        return None
    now = now or timezone.now()
    payload = {
        "type": event_type,
        "timestamp": now.isoformat(),
        "data": {"organization": {"id": organization.pk, "name": organization.name}, **data},
    }
    event, created = OutboundEvent.objects.get_or_create(
        organization=organization, key=key, defaults={"type": event_type, "payload": payload, "created_at": now}
    )
    if not created:
        return None
    Delivery.objects.bulk_create([Delivery(endpoint=e, event=event, next_attempt_at=now) for e in endpoints])
    _kick_after_commit()
    return event


def _kick_after_commit() -> None:
    """One delivery task per transaction, however many events it records (a bulk change of 200
    items records 200); beat's run every minute picks up anything else."""
    if not any(entry[1] is _kick for entry in transaction.get_connection().run_on_commit):
        transaction.on_commit(_kick)


def _kick() -> None:
    from ..tasks import deliver_outbound  # tasks import the services

    deliver_outbound.delay()


def _item_data(item: ChecklistItem, today: dt.date | None = None) -> dict:
    obligation = item.obligation
    data: dict[str, Any] = {
        "id": item.pk,
        "title": {lang: obligation.title_in(lang) for lang in LANGUAGES},
        "due_date": item.due_date.isoformat() if item.due_date else None,
        "status": item.status,
        "assignee": item.assignee_id,
        "url": absolute("web-item", item.organization_id, item.pk),
    }
    if today is not None and item.due_date is not None:
        data["days_left"] = (item.due_date - today).days
    return data


def item_changed(item: ChecklistItem, entry: ItemHistory) -> None:
    """A person changed an item's status, assignee or justification (in their transaction)."""
    if not entry.changes:
        return
    people = member_names(item.organization)
    data = {
        "item": _item_data(item),
        "changes": entry.changes,
        "by": entry.actor.username if entry.actor else None,
        "text": _texts(history_text, entry, people),
    }
    record(item.organization, Endpoint.Event.ITEM_CHANGED, f"item.changed:{entry.pk}", data)


def checklist_changed(change: ChecklistChange) -> None:
    """A sync added, set aside, restored, re-dated or reclassified items (in its transaction)."""
    data = {
        "change": change.pk,
        "counts": change.counts,
        "text": {
            lang: " ".join(
                part
                for part in (
                    change_summary(change.counts, lang=lang),
                    cause_text(change.cause, lang=lang) if change.cause else "",
                )
                if part
            )
            for lang in LANGUAGES
        },
        "url": absolute("web-changes", change.organization_id),
    }
    record(change.organization, Endpoint.Event.CHECKLIST_CHANGED, f"checklist.changed:{change.pk}", data)


def catalogue_changed(version) -> int:
    """A new catalogue was loaded: every organization whose endpoints take it is told."""
    # Created, updated and retired rows by kind, as the loader logs them (not its lists of keys).
    counts = {k: v for k, v in version.changes.items() if k not in KEY_LISTS}
    text = {}
    for lang in LANGUAGES:
        with translation.override(django_language(lang)):
            text[lang] = gettext("The catalogue of rules was updated; see what changed for your checklist.")
    told = 0
    subscribed = _subscribed(None, Endpoint.Event.CATALOGUE_CHANGED)
    for organization in Organization.objects.filter(pk__in=list(subscribed)):
        url = absolute("web-changes", organization.pk)
        data = {"version": version.content_hash, "counts": counts, "text": text, "url": url}
        with transaction.atomic():
            told += bool(
                record(organization, Endpoint.Event.CATALOGUE_CHANGED, f"catalogue.changed:{version.pk}", data)
            )
    return told


def _due_point(due: dt.date, today: dt.date, days_before: list[int]) -> tuple[str, int] | None:
    """The event an item's due date calls for on ``today``: overdue (once per due date), or the
    latest point of the policy that has come (a pass that missed a point tells the later one)."""
    if due < today:
        return Endpoint.Event.ITEM_OVERDUE, 0
    come = [d for d in days_before if due - dt.timedelta(days=d) <= today]
    return (Endpoint.Event.ITEM_DUE_SOON, min(come)) if come else None


def queue_due(organization_ids: list[int], *, now: dt.datetime) -> int:
    """Record the due-date events of these organizations (called by the reminder pass, in the
    transaction that holds their rows, so two passes never record one twice). An organization's
    day starts at ``OUTBOUND_HOUR`` in its time zone, so robots post in working hours."""
    from .reminders import policies_of, when_text  # the reminder pass imports this module

    wanted = _subscribed(organization_ids, *DUE_EVENTS)
    if not wanted:
        return 0
    organizations = Organization.objects.in_bulk(list(wanted))
    policies = policies_of(list(wanted))
    today = {
        pk: (now.astimezone(zoneinfo.ZoneInfo(o.timezone)) - dt.timedelta(hours=settings.OUTBOUND_HOUR)).date()
        for pk, o in organizations.items()
    }
    ahead = max(max(p.days_before, default=0) for p in policies.values())
    items = (
        ChecklistItem.objects.filter(
            ChecklistItemQuerySet.actionable_q(),
            organization_id__in=list(wanted),
            due_date__lte=max(today.values()) + dt.timedelta(days=ahead),
        )
        .select_related("obligation__instrument", "obligation__provision")
        .order_by("organization_id", "due_date", "id")
    )
    candidates: dict[str, tuple[ChecklistItem, str, int]] = {}
    for item in items:
        assert item.due_date is not None
        point = _due_point(item.due_date, today[item.organization_id], policies[item.organization_id].days_before)
        if point:
            kind, days = point
            candidates[f"{kind}:{item.pk}:{item.due_date.isoformat()}:{days}"] = (item, kind, days)
    seen = set(
        OutboundEvent.objects.filter(organization_id__in=list(wanted), key__in=list(candidates)).values_list(
            "key", flat=True
        )
    )
    events, deliveries = [], []
    for key, (item, kind, _days) in candidates.items():
        takers = [e for e in wanted[item.organization_id] if kind in e.events]
        if key in seen or not takers:
            continue
        data = _item_data(item, today[item.organization_id])
        days_left = data["days_left"]
        data["text"] = {}
        for lang in LANGUAGES:
            with translation.override(django_language(lang)):
                data["text"][lang] = f"{item.obligation.title_in(lang)} ({item.due_date}, {when_text(days_left)})"
        organization = organizations[item.organization_id]
        payload = {
            "type": kind,
            "timestamp": now.isoformat(),
            "data": {"organization": {"id": organization.pk, "name": organization.name}, "item": data},
        }
        event = OutboundEvent(organization=organization, type=kind, key=key, payload=payload, created_at=now)
        events.append(event)
        deliveries += [Delivery(endpoint=e, event=event, next_attempt_at=now) for e in takers]
    OutboundEvent.objects.bulk_create(events, batch_size=500)
    Delivery.objects.bulk_create(deliveries, batch_size=1000)
    if events:
        _kick_after_commit()
    return len(events)


# --- Delivering -----------------------------------------------------------------------------


def _due_q(now: dt.datetime) -> Q:
    return Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now)


def _claim(endpoint_id: int, now: dt.datetime) -> bool:
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return bool(Endpoint.objects.filter(free, pk=endpoint_id, enabled=True).update(lease_until=now + LEASE))


def deliver(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Deliver what is due to every enabled endpoint no other worker holds."""
    now = now or timezone.now()
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    ready = Delivery.objects.filter(_due_q(now), endpoint__enabled=True)
    for endpoint_id in sorted(set(ready.values_list("endpoint_id", flat=True))):
        if not _claim(endpoint_id, now):
            continue
        endpoint = Endpoint.objects.select_related("organization").get(pk=endpoint_id)
        # A turn ends well within the lease (a slow receiver takes up to 15 s a post), so no
        # other worker takes the endpoint while this one still posts to it.
        ends = time.monotonic() + LEASE.total_seconds() / 2
        try:
            while endpoint.enabled and time.monotonic() < ends and _turn(endpoint, now, ends, counts):
                pass
        finally:
            Endpoint.objects.filter(pk=endpoint_id).update(lease_until=None)
    return counts


def _turn(endpoint: Endpoint, now: dt.datetime, ends: float, counts: dict[str, int]) -> bool:
    """Deliver the endpoint's next batch: a robot's as one message, a webhook's one by one.
    True if everything went and more may wait; a failure stops the turn (the rest keep their
    order for the next)."""
    batch = list(
        endpoint.deliveries.filter(_due_q(now)).select_related("event").order_by("event__created_at", "id")[:BATCH]
    )
    if not batch:
        return False
    groups = [batch] if endpoint.kind != Endpoint.Kind.WEBHOOK else [[d] for d in batch]
    for group in groups:
        outcome = _send(endpoint, group, now)
        counts[outcome] += len(group)
        if outcome != "delivered" or time.monotonic() >= ends:
            return False
    return True


def _send(endpoint: Endpoint, group: list[Delivery], now: dt.datetime) -> str:
    started = timezone.now()
    try:
        if endpoint.kind == Endpoint.Kind.WEBHOOK:
            answer = _post_webhook(endpoint, group[0].event)
            error = "" if 200 <= answer.status < 300 else f"HTTP {answer.status}: {answer.body[:300]}"
        else:
            answer = _post_chat(endpoint, [d.event for d in group])
            error = chat.refusal(answer)
        status: int | None = answer.status
    except (Refused, OSError, urllib3.exceptions.HTTPError) as failure:
        status, error = None, f"{type(failure).__name__}: {failure}"[:500]
    seconds = (timezone.now() - started).total_seconds()
    outcome = _settle(endpoint, group, now, status, error)
    metrics.delivery(endpoint.kind, outcome, seconds)
    return outcome


def _settle(endpoint: Endpoint, group: list[Delivery], now: dt.datetime, status: int | None, error: str) -> str:
    ids = [d.pk for d in group]
    with transaction.atomic():
        if not error:
            Delivery.objects.filter(pk__in=ids).update(
                status=Delivery.Status.DELIVERED,
                attempts=F("attempts") + 1,
                delivered_at=now,
                last_attempt_at=now,
                response_status=status,
                last_error="",
            )
            if endpoint.failing_since:
                endpoint.failing_since = None
                Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
            return "delivered"
        outcome = "retry"
        for delivery in group:
            attempts = delivery.attempts + 1
            final = attempts >= MAX_ATTEMPTS
            outcome = "failed" if final else outcome
            Delivery.objects.filter(pk=delivery.pk).update(
                attempts=attempts,
                status=Delivery.Status.FAILED if final else Delivery.Status.PENDING,
                next_attempt_at=now if final else now + RETRY[attempts - 1],
                last_attempt_at=now,
                response_status=status,
                last_error=error,
            )
        endpoint.failing_since = endpoint.failing_since or now
        if now - endpoint.failing_since >= settings.OUTBOUND_DISABLE_AFTER:
            endpoint.enabled, endpoint.disabled_at = False, now
            logger.warning("endpoint %s turned off after failing since %s", endpoint.pk, endpoint.failing_since)
        Endpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=endpoint.failing_since, enabled=endpoint.enabled, disabled_at=endpoint.disabled_at
        )
    logger.warning("delivery to endpoint %s failed (%s): %s", endpoint.pk, outcome, error)
    return outcome


def webhook_headers(endpoint: Endpoint, event: OutboundEvent, body: str, now: dt.datetime) -> dict[str, str]:
    """Standard Webhooks' headers: the event's id (the same on every retry), the time of this
    attempt (the clock's, which receivers compare with theirs, not the pass's) and the signature
    over both and the body."""
    signer = Webhook(endpoint.secret)
    msg_id = f"msg_{event.uid.hex}"
    moment = now.astimezone(dt.UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signer.sign(msg_id=msg_id, timestamp=moment, data=body),
        "Content-Type": "application/json",
    }


def _post_webhook(endpoint: Endpoint, event: OutboundEvent):
    body = json.dumps(event.payload, ensure_ascii=False, separators=(",", ":"))
    return post(endpoint.url, body.encode(), webhook_headers(endpoint, event, body, timezone.now()))


def _post_chat(endpoint: Endpoint, events: list[OutboundEvent]):
    # Signed with the clock's time, which the vendor compares with its own (within an hour).
    title, markdown = chat_message(endpoint, events)
    url, body = chat.request(endpoint.kind, endpoint.url, endpoint.secret, title, markdown, now=time.time())
    return post(url, body, {"Content-Type": "application/json; charset=utf-8"})


def post_chat(kind: str, url: str, secret: str, title: str, markdown: str) -> None:
    """Post one message to a robot; raises Refused (or a connection error) if it was not taken."""
    text = chat.fit(title, markdown.splitlines(), "…", kind)
    address, body = chat.request(kind, url, secret, title, text, now=time.time())
    refusal = chat.refusal(post(address, body, {"Content-Type": "application/json; charset=utf-8"}))
    if refusal:
        raise Refused(refusal)


def chat_message(endpoint: Endpoint, events: list[OutboundEvent]) -> tuple[str, str]:
    """(title, Markdown) of a robot's message: one line per event with a link, in its language."""
    from .reminders import subject_text

    lang = endpoint.language
    with translation.override(django_language(lang)):
        overdue = sum(1 for e in events if e.type == Endpoint.Event.ITEM_OVERDUE)
        soon = sum(1 for e in events if e.type == Endpoint.Event.ITEM_DUE_SOON)
        name = endpoint.organization.name
        title = (
            subject_text(name, overdue, soon, False) if overdue or soon else f"[{name}] {gettext('Checklist updates')}"
        )
        open_link = pgettext("link", "Open")
        lines = []
        for event in events:
            data = event.payload["data"]
            text = (data.get("item", {}).get("text") or data.get("text") or {}).get(lang, "")
            url = data.get("url") or data.get("item", {}).get("url")
            mark = "⚠️ " if event.type == Endpoint.Event.ITEM_OVERDUE else ""
            lines.append(f"- {mark}{text} [{open_link}]({url})" if url else f"- {mark}{text}")
        more = gettext("…and %(count)s more on the checklist page.")
        return title, chat.fit(title, lines, more, endpoint.kind)
