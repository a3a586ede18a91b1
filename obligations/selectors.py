"""Reads of an organization's own data, scoped to it."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

from django.db.models import Prefetch

from regulations import selectors as catalog
from regulations.applicability import Outcome, Result, decisive_questions, evaluate
from regulations.models import EventType, Fact, Jurisdiction, Obligation

from .models import (
    ChecklistChange,
    ChecklistItem,
    ItemHistory,
    Membership,
    Organization,
    OrganizationEvent,
    ProfileVersion,
)


def profile_current(organization: Organization, *, before: dt.datetime | None = None) -> ProfileVersion:
    """The latest profile version (saved before ``before``, when given); an unsaved empty
    version 0 when nothing was answered yet."""
    versions = ProfileVersion.objects.filter(organization=organization)
    if before is not None:
        versions = versions.filter(created_at__lt=before)
    latest = versions.order_by("-number").first()
    return latest or ProfileVersion(organization=organization, number=0, answers={})


def organization_event_dates(
    organization: Organization, *, reported_before: dt.datetime | None = None
) -> dict[str, list[dt.date]]:
    events = OrganizationEvent.objects.filter(organization=organization)
    if reported_before is not None:
        events = events.filter(created_at__lt=reported_before)
    dates: dict[str, list[dt.date]] = {}
    for key, date in events.values_list("type_id", "date"):
        # type_id holds EventType.key (to_field="key"); the stubs assume an integer key.
        dates.setdefault(cast(str, key), []).append(date)
    return dates


@dataclass
class Question:
    """One question of the questionnaire, in the reader's language."""

    kind: str  # "fact" or "event"
    key: str
    question: str
    help: str
    type: str  # the fact's type, or "event_date"
    values: list[dict[str, str]]  # {"key", "name"} for set, enum and place facts
    unit: str = ""
    decides: int = 0  # needs-review obligations the answer would settle
    obligations: list[str] = field(default_factory=list)  # their references
    answer: Any = None


@dataclass
class Questionnaire:
    profile: ProfileVersion
    result: Result
    questions: list[Question]  # most decisive first, then the other facts in vocabulary order

    @property
    def decisive(self) -> list[Question]:
        return [q for q in self.questions if q.decides]


def questionnaire(organization: Organization, *, lang: str, as_of: dt.date) -> Questionnaire:
    """The questions that profile the organization, for the API's questions endpoint and the
    profile page alike: every fact with its current answer, and the unreported events that
    would decide something, ordered by how many needs-review obligations each would settle."""
    profile = profile_current(organization)
    result = evaluate(catalog.rulebook(), profile.answers, organization_event_dates(organization), as_of=as_of)
    waiting: dict[tuple[str, str], list[str]] = {}
    for evaluation in result.group(Outcome.NEEDS_REVIEW):
        for missing in evaluation.missing:
            waiting.setdefault((missing.kind, missing.key), []).append(evaluation.rule.ref)
    order = {(m.kind, m.key): rank for rank, (m, _count) in enumerate(decisive_questions(result))}

    def name(row) -> str:
        return row["name_zh"] if lang == "zh" else row["name_en"]

    # By code, so that each province is followed by its cities and districts.
    places = [
        {"key": j["code"], "name": name(j)}
        for j in Jurisdiction.objects.order_by("code").values("code", "name_zh", "name_en")
    ]
    questions = [
        Question(
            kind="fact",
            key=fact.key,
            question=fact.question_zh if lang == "zh" else fact.question_en,
            help=fact.description_zh if lang == "zh" else fact.description_en,
            type=fact.type,
            values=places
            if fact.type.startswith("jurisdiction")
            else [{"key": v["key"], "name": name(v)} for v in fact.values or []],
            unit=fact.unit,
            answer=profile.answers.get(fact.key),
        )
        for fact in Fact.objects.order_by("order", "key")
    ]
    questions += [
        Question(
            kind="event",
            key=event.key,
            question=event.name_zh if lang == "zh" else event.name_en,
            help="",
            type="event_date",
            values=[],
        )
        for event in EventType.objects.filter(key__in=[key for kind, key in order if kind == "event"])
    ]
    for question in questions:
        question.obligations = waiting.get((question.kind, question.key), [])
        question.decides = len(question.obligations)
    questions.sort(key=lambda q: order.get((q.kind, q.key), len(order)))
    return Questionnaire(profile=profile, result=result, questions=questions)


def member_names(organization) -> dict[int, str]:
    """User id -> name of the organization's members, for history entries that keep assignees by id."""
    return dict(Membership.objects.filter(organization=organization).values_list("user_id", "user__username"))


def change_entries_queryset():
    """A change's history entries with what their words need (items, obligations, actors)."""
    return ItemHistory.objects.select_related(
        "item__obligation__instrument", "item__obligation__provision", "actor"
    ).order_by("item__due_date", "id")


def checklist_changes(organization):
    """The organization's checklist changes, newest first, with their history entries and the
    entries' items and obligations: a fixed number of queries for any page of them."""
    return ChecklistChange.objects.filter(organization=organization).prefetch_related(
        Prefetch("entries", queryset=change_entries_queryset())
    )


@dataclass
class LinkedDuty:
    obligation: Obligation
    items: list  # the organization's current items of it


def linked_duties(item) -> list[LinkedDuty]:
    """The other obligations that ask for the same act as ``item``'s (regulations.models.Act),
    each with the organization's current items of it: two queries, none without an act."""
    if item.obligation.act_id is None:
        return []
    others = list(
        Obligation.objects.filter(act_id=item.obligation.act_id, retired=False)
        .exclude(pk=item.obligation_id)
        .select_related("instrument", "provision")
        .order_by("instrument__code", "order")
    )
    items: dict[int, list] = {}
    for other in ChecklistItem.objects.filter(
        organization_id=item.organization_id, obligation__in=others, superseded_at__isnull=True
    ).order_by("due_date", "id"):
        items.setdefault(other.obligation_id, []).append(other)
    return [LinkedDuty(o, items.get(o.pk, [])) for o in others]
