"""The checklist: generated from what applies, re-synchronized when the profile, the events,
the catalogue or the holiday calendar change, without ever losing work.

``checklist_plan`` works out what a sync would do; ``checklist_sync`` applies the plan in one
transaction with a history entry for every change. The same plan serves ``load_catalog --plan``
and the admin preview, so what is shown is what will happen.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast

from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from regulations import selectors
from regulations.applicability import Evaluation, Outcome, Rule, Rulebook, evaluate
from regulations.deadlines import DueDate, RuleOutcome, WorkCalendar, occurrences, rule_due
from regulations.explain import Labels, reason_text
from regulations.models import Obligation

from ..errors import ServiceError, StaleVersion
from ..models import (
    ChecklistChange,
    ChecklistItem,
    Evidence,
    ItemHistory,
    Organization,
    OrganizationEvent,
    ProfileVersion,
)
from ..selectors import organization_event_dates, profile_current
from ..wording import superseded_text
from . import outbound

logger = logging.getLogger(__name__)

# Recurring duties get items for periods due from a month ago to a year ahead; a daily job or
# the next sync rolls the window forward. Older items stay as they are.
LOOKBACK = dt.timedelta(days=31)
HORIZON = dt.timedelta(days=366)
EVENT_DEADLINES = {"after_event", "before_event", "qualitative"}
# A prohibition holds at all times: instead of a one-off "done", the organization confirms it
# keeps to it, now and then once a year after each confirmation. The year is the tracker's
# review cycle, not a date from the text, and the explanation says so.
CONFIRMATION = {"kind": "recurring", "rrule": "FREQ=YEARLY", "anchor": "last_completion", "confirmation": True}


def deadline_of(kind: str, deadline: Mapping) -> dict:
    """The deadline the checklist follows for an obligation of ``kind``: the catalogue's, or
    the yearly confirmation of a standing prohibition."""
    if kind == "prohibition" and deadline["kind"] == "ongoing":
        return CONFIRMATION
    return dict(deadline)


def organization_today(organization: Organization) -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(organization.timezone)).date()


@dataclass
class Wanted:
    """An item the current rules call for."""

    obligation_id: int
    occurrence: str
    event_id: int | None
    applicability: str
    track: str
    waiting_for: list[dict]
    reasons: list[dict]
    due: DueDate | None
    basis: dict

    @property
    def key(self) -> tuple[int, str]:
        return self.obligation_id, self.occurrence


@dataclass
class Plan:
    organization: Organization
    as_of: dt.date
    added: list[Wanted] = field(default_factory=list)
    superseded: list[tuple[ChecklistItem, dict]] = field(default_factory=list)  # with why (wording.py)
    restored: list[tuple[ChecklistItem, Wanted]] = field(default_factory=list)
    redated: list[tuple[ChecklistItem, Wanted, dt.date | None]] = field(default_factory=list)  # with the old date
    reclassified: list[tuple[ChecklistItem, Wanted]] = field(default_factory=list)
    refreshed: list[tuple[ChecklistItem, Wanted]] = field(default_factory=list)  # reasons only, no history

    def __str__(self) -> str:
        return f"checklist of {self.organization}"

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "superseded": len(self.superseded),
            "redated": len(self.redated),
            "restored": len(self.restored),
            "reclassified": len(self.reclassified),
        }

    def summary(self) -> dict[str, Any]:
        return {"organization": self.organization.pk, "as_of": self.as_of.isoformat(), **self.counts()}

    def details(self, lang: str = "en") -> dict[str, list[dict]]:
        """What would change, item by item, for people reviewing a catalogue update."""
        names = selectors.labels()
        # The plan's items come without their obligations (a sync reads every item); one query.
        obligations = Obligation.objects.in_bulk({i.obligation_id for i, _ in self.superseded})
        return {
            "added": [
                {"obligation": w.obligation_id, "occurrence": w.occurrence, "due_date": _iso(w)} for w in self.added
            ],
            "superseded": [
                {
                    "item": i.pk,
                    "obligation": i.obligation_id,
                    "reason": superseded_text(r, obligations[i.obligation_id], lang=lang, labels=names),
                }
                for i, r in self.superseded
            ],
            "redated": [
                {"item": i.pk, "obligation": i.obligation_id, "from": _iso_date(old), "to": _iso(w)}
                for i, w, old in self.redated
            ],
        }


def _iso(wanted: Wanted) -> str | None:
    return wanted.due.due_date.isoformat() if wanted.due else None


def _iso_date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _reasons(evaluation: Evaluation) -> list[dict]:
    """The reasons as structure; they are put into words in the reader's language when read
    (``reasons_in``), so a sync in one language serves readers of both."""
    return [
        {"test": r.test, "result": r.result, "code": r.code, "params": dict(r.params), "facts": dict(r.facts)}
        for r in evaluation.reasons
    ]


def reasons_in(item: ChecklistItem, lang: str, labels: Labels | None = None) -> list[dict]:
    """An item's reasons as sentences in ``lang`` ("zh" or "en"), with the vocabulary's names."""
    labels = labels or selectors.labels()
    conditions = item.obligation.conditions
    return [
        {
            "test": r["test"],
            "result": r["result"],
            "text": reason_text(r, lang, labels, conditions) if "code" in r else r.get(f"text_{lang}", ""),
            "facts": r.get("facts", {}),
        }
        for r in item.reasons
    ]


def _basis(rule: Rule, outcome: RuleOutcome, start: dt.date | None = None) -> dict:
    due = outcome.due
    return {
        "rule": deadline_of(rule.info["kind"], rule.deadline),
        "start": start.isoformat() if start else None,
        "steps": list(due.steps) if due else [],
        "estimated": bool(due and due.estimated),
        "pending": outcome.reason,
        **({"keep_until": outcome.keep.due_date.isoformat(), "keep_steps": outcome.keep.steps} if outcome.keep else {}),
    }


def _wanted_for(
    evaluation: Evaluation,
    track: str,
    events: list[OrganizationEvent],
    anchors: dict[int, dt.date],
    as_of: dt.date,
    calendar: WorkCalendar,
) -> list[Wanted]:
    rule = evaluation.rule
    deadline = deadline_of(rule.info["kind"], rule.deadline)

    def wanted(occurrence: str, outcome: RuleOutcome, event: OrganizationEvent | None = None, start=None):
        return Wanted(
            rule.id,
            occurrence,
            event.pk if event else None,
            evaluation.outcome.value,
            track,
            [{"kind": m.kind, "key": m.key} for m in evaluation.missing],
            _reasons(evaluation),
            outcome.due,
            _basis(rule, outcome, start),
        )

    # One item per reported event for a rule that runs from it: a period to act, or to keep.
    event_key = deadline.get("event") if deadline["kind"] in EVENT_DEADLINES else deadline.get("keep", {}).get("event")
    if event_key:
        mine = [e for e in events if e.type_id == event_key]
        if not mine:  # one item waiting for the event, so the duty is visible beforehand
            return [wanted("", rule_due(deadline, as_of=as_of, calendar=calendar))]
        return [
            wanted(
                f"event:{e.pk}",
                rule_due(deadline, events={event_key: e.date}, as_of=as_of, calendar=calendar),
                e,
                e.date,
            )
            for e in mine
        ]
    if deadline["kind"] == "recurring":
        if deadline["anchor"] == "schedule":
            start = dt.date.fromisoformat(deadline["dtstart"]) if deadline.get("dtstart") else None
            dates = occurrences(deadline, start=start, after=as_of - LOOKBACK, until=as_of + HORIZON)
            steps = [{"code": "period", "rrule": deadline["rrule"]}]
            return [wanted(d.isoformat(), RuleOutcome(DueDate(d, steps=list(steps)))) for d in dates]
        # One period after the last fulfilment or, before the first, after the event that
        # started the series; with neither, one undated item says what it waits for.
        anchor = anchors.get(rule.id)
        latest = {e.type_id: e.date for e in events}  # events come in date order
        outcome = rule_due(deadline, events=latest, anchor_date=anchor, calendar=calendar)
        if outcome.due is None:
            return [] if anchor else [wanted("", outcome)]
        started = anchor or latest.get(deadline.get("event", ""))
        return [wanted(outcome.due.due_date.isoformat(), outcome, start=started)]
    return [wanted("", rule_due(deadline, as_of=as_of, calendar=calendar))]


def _anchors(organization: Organization, book) -> dict[int, dt.date]:
    """Last completion or evidence date per obligation, for recurring rules anchored on them."""
    by_completion = dict(
        ChecklistItem.objects.filter(organization=organization, status=ChecklistItem.Status.DONE)
        .values("obligation_id")
        .annotate(last=Max("completed_at"))
        .values_list("obligation_id", "last")
    )
    by_evidence = dict(
        Evidence.objects.filter(item__organization=organization, item__status=ChecklistItem.Status.DONE)
        .values("item__obligation_id")
        .annotate(last=Max("evidence_date"))
        .values_list("item__obligation_id", "last")
    )
    anchors = {}
    tz = zoneinfo.ZoneInfo(organization.timezone)
    for rule in book.rules:
        deadline = deadline_of(rule.info["kind"], rule.deadline)
        if deadline["kind"] != "recurring" or deadline["anchor"] == "schedule":
            continue
        if deadline["anchor"] == "evidence_date" and rule.id in by_evidence:
            anchors[rule.id] = by_evidence[rule.id]
        elif rule.id in by_completion:
            anchors[rule.id] = by_completion[rule.id].astimezone(tz).date()
    return anchors


def checklist_plan(organization: Organization, *, as_of: dt.date | None = None) -> Plan:
    as_of = as_of or organization_today(organization)
    book, calendar = selectors.current()  # one version query for both
    events = list(OrganizationEvent.objects.filter(organization=organization).order_by("date", "id"))
    result = evaluate(
        book,
        profile_current(organization).answers,
        organization_event_dates(organization),
        as_of=as_of,
        calendar=calendar,
    )
    anchors = _anchors(organization, book)
    wanted: dict[tuple[int, str], Wanted] = {}
    verdicts: dict[int, Evaluation] = {}
    for evaluation in result.evaluations:
        if evaluation.preview:
            continue
        verdicts[evaluation.rule.id] = evaluation
        track = evaluation.track
        if evaluation.outcome is not Outcome.DOES_NOT_APPLY and track:
            for found in _wanted_for(evaluation, track, events, anchors, as_of, calendar):
                wanted[found.key] = found

    _renewals(organization, wanted)

    plan = Plan(organization, as_of)
    existing = ChecklistItem.objects.filter(organization=organization).select_related("event")
    seen = set()
    for item in existing:
        key = (item.obligation_id, item.occurrence)
        seen.add(key)
        w = wanted.get(key)
        if w is None:
            reason = _why_not_wanted(item, verdicts.get(item.obligation_id), as_of)
            if reason and item.superseded_at is None:
                plan.superseded.append((item, reason))
            continue
        if item.superseded_at is not None:
            plan.restored.append((item, w))
            continue
        due = w.due
        if (item.due_date, item.opens, item.due_basis.get("estimated", False)) != (
            due.due_date if due else None,
            due.opens if due else None,
            w.basis["estimated"],
        ):
            plan.redated.append((item, w, item.due_date))
        if (item.applicability, item.waiting_for, item.track) != (w.applicability, w.waiting_for, w.track):
            plan.reclassified.append((item, w))
        elif item.reasons != w.reasons or item.due_basis != w.basis:
            plan.refreshed.append((item, w))
    plan.added = [w for key, w in wanted.items() if key not in seen]
    return plan


def _renewals(organization: Organization, wanted: dict[tuple[int, str], Wanted]) -> None:
    """Add to ``wanted`` a renewal for each done item, still wanted, whose latest evidence
    expires: the same duty again, due on the evidence's last valid day (occurrence
    ``renewal:<item id>``; a renewal done with expiring evidence has its own renewal)."""
    latest: dict[int, tuple[int, str, dt.date | None, dt.date]] = {}
    for item_id, obligation_id, occurrence, valid_until, shown in (
        Evidence.objects.filter(
            item__organization=organization, item__status=ChecklistItem.Status.DONE, item__superseded_at__isnull=True
        )
        .order_by("item_id", "uploaded_at", "id")
        .values_list("item_id", "item__obligation_id", "item__occurrence", "valid_until", "evidence_date")
    ):
        latest[item_id] = (obligation_id, occurrence, valid_until, shown)  # the last added counts
    for item_id, (obligation_id, occurrence, valid_until, shown) in sorted(latest.items()):
        base = wanted.get((obligation_id, occurrence))
        if base is None or valid_until is None:
            continue
        steps = [{"code": "valid_until", "date": valid_until.isoformat(), "evidence_date": shown.isoformat()}]
        renewal = f"renewal:{item_id}"
        wanted[(obligation_id, renewal)] = replace(
            base,
            occurrence=renewal,
            due=DueDate(valid_until, steps=steps),
            basis={
                "rule": base.basis["rule"],
                "start": shown.isoformat(),
                "steps": steps,
                "estimated": False,
                "pending": None,
            },
        )


def _why_not_wanted(item: ChecklistItem, verdict: Evaluation | None, as_of: dt.date) -> dict:
    """Why an existing item should be superseded, as structure (obligations.wording puts it
    into words), or {} to leave it alone."""
    if verdict is None:
        return {"code": "removed"}
    if verdict.track is None:
        return {"code": "not_for_organizations"}
    if verdict.outcome is Outcome.DOES_NOT_APPLY:
        failed = next((r for r in verdict.reasons if r.result is False), None)
        return {
            "code": "not_applicable",
            "reason": {"code": failed.code, "params": dict(failed.params)} if failed else None,
        }
    if item.occurrence.startswith("event:"):
        return {} if item.event_id else {"code": "event_deleted"}
    if item.occurrence.startswith("renewal:"):  # the duty it renews was reopened, or its evidence no longer expires
        return {"code": "renewal_not_needed"} if item.status in ChecklistItem.OPEN_STATUSES else {}
    if item.occurrence == "":
        if verdict.rule.deadline["kind"] in EVENT_DEADLINES:
            return {"code": "event_tracked"}
        if item.status in ChecklistItem.OPEN_STATUSES:  # the series now has dated periods
            return {"code": "series_dated"}
        return {}  # a first period, done, now followed by dated periods
    # A recurring period: past or finished periods stay; an open one the schedule no longer
    # produces (the catalogue changed the rule) is superseded.
    if item.status in ChecklistItem.OPEN_STATUSES and item.due_date and item.due_date >= as_of - LOOKBACK:
        return {"code": "schedule_changed"}
    return {}


def _due_fields(w: Wanted) -> dict:
    return {
        "due_date": w.due.due_date if w.due else None,
        "opens": w.due.opens if w.due else None,
        "due_basis": w.basis,
    }


@transaction.atomic
def checklist_sync(organization: Organization, *, as_of: dt.date | None = None, cause: dict | None = None) -> Plan:
    """Bring the checklist in line with the current rules, profile, events and calendar.
    ``cause`` goes into every history entry the sync writes, as structure that
    obligations.wording puts into words: {"code": "profile", "version": 4}."""
    Organization.objects.select_for_update().get(pk=organization.pk)  # one sync per organization at a time
    plan = checklist_plan(organization, as_of=as_of)
    context = {"cause": cause} if cause else {}
    history: list[ItemHistory] = []

    created = ChecklistItem.objects.bulk_create(
        [
            ChecklistItem(
                organization=organization,
                obligation_id=w.obligation_id,
                occurrence=w.occurrence,
                event_id=w.event_id,
                applicability=w.applicability,
                track=w.track,
                waiting_for=w.waiting_for,
                reasons=w.reasons,
                **_due_fields(w),
            )
            for w in plan.added
        ]
    )
    history += [
        ItemHistory(
            item=i, action=ItemHistory.Action.CREATED, context=context, changes={"due_date": _change(None, i.due_date)}
        )
        for i in created
    ]

    now = timezone.now()
    changed: dict[int, ChecklistItem] = {}
    for item, reason in plan.superseded:
        item.superseded_at, item.superseded_reason = now, reason
        history.append(
            ItemHistory(item=item, action=ItemHistory.Action.SUPERSEDED, context={**context, "superseded": reason})
        )
        changed[item.pk] = item
    for item, w in plan.restored:
        old_due = item.due_date
        item.superseded_at, item.superseded_reason = None, {}
        _apply(item, w)
        history.append(
            ItemHistory(
                item=item,
                action=ItemHistory.Action.RESTORED,
                context=context,
                changes={"due_date": _change(old_due, item.due_date)},
            )
        )
        changed[item.pk] = item
    for item, w, _ in plan.redated:
        old = (item.due_date, item.opens)
        _apply(item, w)
        item.due_sequence += 1
        changes = {"due_date": _change(old[0], item.due_date)}
        if old[1] != item.opens:
            changes["opens"] = _change(old[1], item.opens)
        history.append(
            ItemHistory(
                item=item,
                action=ItemHistory.Action.REDATED,
                context={**context, "steps": w.basis["steps"]},
                changes=changes,
            )
        )
        changed[item.pk] = item
    for item, w in plan.reclassified:
        changes = {
            "applicability": _change(item.applicability, w.applicability),
            "waiting_for": _change(item.waiting_for, w.waiting_for),
            "track": _change(item.track, w.track),
        }
        _apply(item, w)
        history.append(ItemHistory(item=item, action=ItemHistory.Action.UPDATED, context=context, changes=changes))
        changed[item.pk] = item
    bumped = set(changed)  # changes users see; a refresh of the reasons alone keeps the ETag
    for item, w in plan.refreshed:
        _apply(item, w)
        changed.setdefault(item.pk, item)
    for item in changed.values():
        if item.pk in bumped:
            item.version += 1
    ChecklistItem.objects.bulk_update(
        list(changed.values()),
        [
            "superseded_at",
            "superseded_reason",
            "applicability",
            "track",
            "waiting_for",
            "reasons",
            "due_date",
            "opens",
            "due_basis",
            "due_sequence",
            "version",
            "updated_at",
        ],
        batch_size=500,
    )
    counts = plan.counts()
    if any(counts.values()):  # what people are told changed: one row per sync that changed something
        change = ChecklistChange.objects.create(organization=organization, cause=cause or {}, counts=counts)
        for entry in history:
            entry.change = change
        outbound.checklist_changed(change)
    ItemHistory.objects.bulk_create(history, batch_size=500)
    summary = plan.summary()
    if any(summary[k] for k in ("added", "superseded", "restored", "redated", "reclassified")):
        logger.info("checklist synced: %s (%s)", summary, cause or "no cause given")
    return plan


def _apply(item: ChecklistItem, w: Wanted) -> None:
    for name, value in _due_fields(w).items():
        setattr(item, name, value)
    item.applicability, item.waiting_for, item.reasons = w.applicability, w.waiting_for, w.reasons
    item.track = w.track
    item.event_id = w.event_id
    item.updated_at = timezone.now()


def _change(old, new) -> dict:
    def plain(value):
        return value.isoformat() if isinstance(value, dt.date) else value

    return {"from": plain(old), "to": plain(new)}


RESYNC_CHUNK = 200  # organizations read, and evaluated for a catalogue change, at a time


def checklist_sync_all(*, cause: dict, dry_run: bool = False) -> list[Plan]:
    """Every organization, e.g. after a new holiday schedule, or daily. Each organization is
    synced in its own transaction, so the run holds no lock longer than one checklist's sync."""
    plans = []
    for organization in Organization.objects.order_by("pk").iterator(chunk_size=RESYNC_CHUNK):
        plans.append(checklist_plan(organization) if dry_run else checklist_sync(organization, cause=cause))
    return plans


def checklist_resync(obligations: frozenset[int] | None, *, cause: dict, dry_run: bool = False) -> list[Plan]:
    """After a catalogue change to ``obligations`` (ids; None: any may have changed): sync the
    checklists it can change, each in its own transaction, and only those. A checklist can
    change if it has items of those obligations, or if one of them now calls for an item for
    the organization; the second is worked out by evaluating only those obligations against
    each organization's profile, a chunk of organizations at a time."""
    if obligations is None:
        return checklist_sync_all(cause=cause, dry_run=dry_run)
    if not obligations:
        return []
    book = selectors.rulebook()
    changed = Rulebook(
        rules=[rule for rule in book.rules if rule.id in obligations],
        facts=book.facts,
        parents=book.parents,
        events=book.events,
        version=book.version,
    )
    with_items = set(
        ChecklistItem.objects.filter(obligation_id__in=obligations).values_list("organization_id", flat=True).distinct()
    )
    plans = []
    organizations = Organization.objects.order_by("pk")
    for chunk in _chunks(organizations.iterator(chunk_size=RESYNC_CHUNK), RESYNC_CHUNK):
        wanted = _calls_for_items(changed, [o for o in chunk if o.pk not in with_items]) if changed.rules else set()
        for organization in chunk:
            if organization.pk in with_items or organization.pk in wanted:
                plans.append(checklist_plan(organization) if dry_run else checklist_sync(organization, cause=cause))
    return plans


def _calls_for_items(book: Rulebook, organizations: list[Organization]) -> set[int]:
    """The organizations for which some rule of ``book`` does not rule itself out: those whose
    checklist would gain an item from it (or a needs-review placeholder)."""
    ids = [o.pk for o in organizations]
    latest = ProfileVersion.objects.filter(organization=OuterRef("organization")).order_by("-number").values("number")
    answers = dict(
        ProfileVersion.objects.filter(organization_id__in=ids, number=Subquery(latest[:1])).values_list(
            "organization_id", "answers"
        )
    )
    events: dict[int, dict[str, list[dt.date]]] = {}
    for organization_id, key, date in OrganizationEvent.objects.filter(organization_id__in=ids).values_list(
        "organization_id", "type_id", "date"
    ):
        # type_id holds EventType.key (to_field="key"); the stubs assume an integer key.
        events.setdefault(organization_id, {}).setdefault(cast(str, key), []).append(date)
    calendar = selectors.work_calendar()
    found = set()
    for organization in organizations:
        result = evaluate(
            book,
            answers.get(organization.pk, {}),
            events.get(organization.pk, {}),
            as_of=organization_today(organization),
            calendar=calendar,
        )
        if any(e.outcome is not Outcome.DOES_NOT_APPLY and e.track and not e.preview for e in result.decided):
            found.add(organization.pk)
    return found


def _chunks(iterable, size: int):
    chunk: list = []
    for element in iterable:
        chunk.append(element)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- Officers' changes ---------------------------------------------------------------------


UNCHANGED = object()


@transaction.atomic
def item_update(
    item: ChecklistItem,
    *,
    actor,
    expected_version: int,
    status: str | None = None,
    assignee: Any = UNCHANGED,
    justification: str | None = None,
    note: str = "",
) -> ChecklistItem:
    """Change an item if nobody else changed it since ``expected_version``; record the change."""
    # The organization row first, as checklist_sync takes it: an edit and a sync never interleave.
    Organization.objects.select_for_update().get(pk=item.organization_id)
    item = ChecklistItem.objects.select_for_update().get(pk=item.pk)
    if item.version != expected_version:
        raise StaleVersion
    if item.superseded_at is not None:
        raise ServiceError("status", "This item is superseded and can no longer change; comments are still possible.")
    before = {"status": item.status, "assignee": item.assignee_id, "justification": item.justification}
    if justification is not None:
        item.justification = justification
    if assignee is not UNCHANGED:
        item.assignee = assignee
    if status is not None and status != item.status:
        item.status = status
        done = status == ChecklistItem.Status.DONE
        item.completed_by, item.completed_at = (actor, timezone.now()) if done else (None, None)
    if item.status == ChecklistItem.Status.NOT_APPLICABLE and not item.justification.strip():
        raise ServiceError("justification", "Say why the item does not apply to mark it not applicable.")
    after = {"status": item.status, "assignee": item.assignee_id, "justification": item.justification}
    changes = {k: _change(before[k], after[k]) for k in before if before[k] != after[k]}
    if not changes and not note:
        return item
    item.version += 1
    item.save()
    entry = ItemHistory.objects.create(
        item=item, actor=actor, action=ItemHistory.Action.UPDATED, changes=changes, note=note
    )
    outbound.item_changed(item, entry)
    anchor = deadline_of(item.obligation.kind, item.obligation.deadline).get("anchor")
    if "status" in changes and anchor in ("last_completion", "evidence_date"):
        checklist_sync(item.organization, cause={"code": "next_period"})
    elif "status" in changes and item.evidence.filter(valid_until__isnull=False).exists():
        checklist_sync(item.organization, cause={"code": "renewal"})  # a renewal starts or ends
    return item


BULK_MAX = 200


@transaction.atomic
def items_update(
    organization: Organization,
    *,
    actor,
    versions: Mapping[int, int],
    status: str | None = None,
    assignee: Any = UNCHANGED,
    justification: str | None = None,
    note: str = "",
) -> list[ChecklistItem]:
    """The same change to several items, all of them or none: each is checked against the
    version the client read (``versions``: item id -> version) and gets its own history entry,
    through ``item_update``, in one transaction."""
    if not versions:
        raise ServiceError("items", "Choose at least one item.")
    if len(versions) > BULK_MAX:
        raise ServiceError("items", f"At most {BULK_MAX} items at a time; {len(versions)} were chosen.")
    found = {i.pk: i for i in ChecklistItem.objects.filter(organization=organization, pk__in=versions)}
    unknown = sorted(set(versions) - set(found))
    if unknown:
        raise ServiceError("items", f"Not items of this checklist: {', '.join(map(str, unknown))}.")
    # Every item is locked and checked (item_update); one stale or refused item undoes the rest,
    # and the refusal names the items it concerns.
    updated, stale = [], []
    for pk in sorted(versions):
        try:
            updated.append(
                item_update(
                    found[pk],
                    actor=actor,
                    expected_version=versions[pk],
                    status=status,
                    assignee=assignee,
                    justification=justification,
                    note=note,
                )
            )
        except StaleVersion:
            stale.append(pk)
        except ServiceError as error:
            raise ServiceError(
                errors={field: [f"Item {pk}: {m}" for m in messages] for field, messages in error.errors.items()}
            ) from None
    if stale:
        raise ServiceError(
            "items", f"Changed by someone else since you read them: {', '.join(map(str, stale))}. Reload and try again."
        )
    return updated


COMMENT_MAX = 5000


def item_comment(item: ChecklistItem, *, actor, text: str) -> ItemHistory:
    text = text.strip()
    if not text:
        raise ServiceError("text", "Write something to comment.")
    if len(text) > COMMENT_MAX:
        raise ServiceError("text", f"A comment has at most {COMMENT_MAX} characters; this one has {len(text)}.")
    return ItemHistory.objects.create(item=item, actor=actor, action=ItemHistory.Action.COMMENTED, note=text)
