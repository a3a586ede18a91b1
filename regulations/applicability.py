"""Which obligations apply to an organization, and why.

Pure: no database. ``Rulebook`` is a snapshot of the catalogue (selectors.rulebook builds and
caches it per catalogue version); ``evaluate`` takes a profile (fact answers, unanswered facts
simply absent), the dated events the organization reported and an as-of date.

Logic is three-valued. Every test (instrument status and dates, jurisdiction, role, the
obligation's conditions) gives True, False or unknown. One False and the obligation does not
apply; otherwise one unknown and it needs review, with the answers that would decide it;
otherwise it applies. Each test leaves a reason naming the facts it used.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from . import places
from .deadlines import DEFAULT_CALENDAR, RuleOutcome, WorkCalendar, may_have_a_date, rule_due

# Facts that place an organization: the instrument's jurisdiction is applied through them.
PLACE_FACTS = ("registered_in", "operates_in", "data_sourced_in", "public_data_of")
EVERYONE = "any_party"
# Where an obligation of each kind lands for an organization it applies to: the checklist of
# what it must (not) do, or the list of opportunities it may take up. A target (a goal the region
# sets itself) lands nowhere: it is not something an organization does or fails to do.
TRACKS = {"duty": "duty", "prohibition": "duty", "authority_duty": "duty", "incentive": "opportunity"}


class Outcome(StrEnum):
    APPLIES = "applies"
    NEEDS_REVIEW = "needs_review"
    DOES_NOT_APPLY = "does_not_apply"


# Plain names for the members: the engine's loop reads them for every obligation.
APPLIES, NEEDS_REVIEW, DOES_NOT_APPLY = Outcome.APPLIES, Outcome.NEEDS_REVIEW, Outcome.DOES_NOT_APPLY


@dataclass(frozen=True)
class FactSpec:
    key: str
    type: str
    values: frozenset[str] | None  # allowed values of set and enum facts
    order: int = 0


@dataclass(frozen=True)
class Rule:
    """One obligation as the engine needs it."""

    ref: str  # "instrument-code:obligation-key"
    id: int
    instrument: str
    status: str
    effective: dt.date | None
    expires: dt.date | None
    jurisdiction: str
    roles: frozenset[str]
    conditions: Mapping | None
    deadline: Mapping
    # For an authority's act: the roles that wait for it, and see its date as what to expect.
    awaited_by: frozenset[str] = frozenset()
    # The place facts that bring an organization under the instrument (its place_basis).
    places: tuple[str, ...] = ("registered_in", "operates_in", "data_sourced_in")
    # A curator's unsettled question about the reading (English, Chinese): while it stands the
    # obligation at most needs review, with the question as the reason.
    question: tuple[str, str] | None = None
    info: Mapping[str, Any] = field(default_factory=dict, compare=False)  # display fields, unused here

    # Texts derived from the fields above, computed once per rule rather than per evaluation.
    @cached_property
    def roles_text(self) -> str:
        return ", ".join(sorted(self.roles))

    # What equal conditions and deadlines share (the same words in many rules and places): one
    # evaluation answers for all of them within a profile's evaluation.
    @cached_property
    def condition_key(self) -> str:
        return json.dumps(self.conditions, sort_keys=True) if self.conditions else ""

    @cached_property
    def signature(self) -> tuple:
        """What the verdict depends on besides the instrument: rules alike share it."""
        return (self.roles, self.awaited_by, self.condition_key, self.question)

    @cached_property
    def deadline_key(self) -> str:
        return json.dumps(self.deadline, sort_keys=True, default=str)

    @cached_property
    def reads(self) -> tuple[tuple[str, str], ...]:
        return condition_reads(self.conditions) if self.conditions else ()

    @cached_property
    def conditions_text(self) -> str:
        return describe(self.conditions) if self.conditions else ""

    @cached_property
    def undated_outcome(self) -> RuleOutcome | None:
        """What rule_due gives for a deadline that never has a date (ongoing, qualitative): the
        same for every profile, events and date. None for the kinds that may have a date."""
        return None if may_have_a_date(self.deadline) else rule_due(self.deadline)


@dataclass
class Rulebook:
    rules: list[Rule]
    facts: dict[str, FactSpec]
    parents: dict[str, str | None]  # jurisdiction code -> parent code
    events: frozenset[str]
    version: str = ""
    _ancestors: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    def ancestors(self, code: str) -> frozenset[str]:
        """The code and every jurisdiction above it."""
        if code not in self._ancestors:
            self._ancestors[code] = frozenset(places.ancestors(code, self.parents))
        return self._ancestors[code]

    def within(self, code: str, area: str) -> bool:
        return area in self.ancestors(code)

    @cached_property
    def runs(self) -> list[tuple[str, list[Rule]]]:
        """The rules in order, as runs of consecutive rules of one instrument (the catalogue
        keeps an instrument's obligations together: one run per instrument)."""
        runs: list[tuple[str, list[Rule]]] = []
        for rule in self.rules:
            if not runs or runs[-1][0] != rule.instrument:
                runs.append((rule.instrument, []))
            runs[-1][1].append(rule)
        return runs


@dataclass(frozen=True, slots=True)
class Missing:
    """An answer that would decide a needs-review obligation: a fact or an event date."""

    kind: str  # "fact" or "event"
    key: str


@dataclass(frozen=True, slots=True)
class Reason:
    test: str  # "status", "jurisdiction", "roles", "conditions"
    result: bool | None
    code: str  # message code, see MESSAGES
    params: Mapping[str, Any] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)  # the answers this test used

    def text(self, language: str = "en") -> str:
        en, zh = MESSAGES[self.code]
        return (zh if language == "zh" else en).format(**self.params)


@dataclass(slots=True)
class Evaluation:
    rule: Rule
    outcome: Outcome
    reasons: list[Reason]
    missing: list[Missing]
    preview: bool = False  # a draft for comment, evaluated as if it were in force
    deadline: RuleOutcome | None = None

    @property
    def track(self) -> str | None:
        """Where it lands for the organization: "duty", "opportunity", "expectation" (an
        authority's act it waits for) or None (a goal the region sets itself)."""
        if any(r.code == "role_awaits" for r in self.reasons):
            return "expectation"
        return TRACKS.get(self.rule.info.get("kind", "duty"))


MESSAGES: dict[str, tuple[str, str]] = {
    "in_force": ("The instrument is {status}.", "该文件{status_zh}。"),
    "draft": (
        "A draft for comment creates no binding duty.",
        "征求意见稿不产生约束力。",
    ),
    "draft_preview": (
        "A draft for comment, previewed as if it were in force.",
        "征求意见稿，按已生效预览。",
    ),
    "repealed": ("The instrument has been repealed.", "该文件已废止。"),
    "expired": ("The instrument expired on {date}.", "该文件已于{date}失效。"),
    "not_yet_effective": ("The instrument takes effect on {date}.", "该文件自{date}起施行。"),
    "in_scope": ("{fact} {value} is within {jurisdiction}.", "{fact}为{value}，属于{jurisdiction}范围。"),
    "out_of_scope": (
        "None of the places that count for this instrument is within {jurisdiction}.",
        "与本文件相关的地点均不在{jurisdiction}范围内。",
    ),
    "scope_unknown": (
        "Not known whether the organization is within {jurisdiction}.",
        "尚不清楚组织是否在{jurisdiction}范围内。",
    ),
    "everyone": ("Addressed to any organization or individual.", "适用于任何组织和个人。"),
    "role_match": ("The organization plays {roles}.", "组织承担{roles}角色。"),
    "role_awaits": (
        "The authority acts for the organization as {roles}: its date is what to expect.",
        "主管部门的这一行为针对承担{roles}角色的组织：其日期是组织可预期的时间。",
    ),
    "role_no_match": (
        "Addressed to {roles}, which the organization does not play.",
        "适用于{roles}，组织不承担该角色。",
    ),
    "role_unknown": ("Addressed to {roles}; the organization's roles are not known.", "适用于{roles}，组织角色未知。"),
    "condition": ("Condition {condition}: {verdict}.", "条件 {condition}：{verdict_zh}。"),
    "open_question": (
        "How the text reads is not settled yet: {question}",
        "条文的理解尚待确认：{question_zh}",
    ),
}
# How an instrument that applies on the as-of date is described, by its catalogue status.
STATUS_TEXT = {
    "in_force": ("in force", "现行有效"),
    "trial": ("in force on trial", "处于试行期"),
    "expired": ("in force on that date", "在该日期有效"),
    "draft_for_comment": ("previewed as if in force", "按已生效预览"),
}
VERDICT_ZH = {"holds": "成立", "does not hold": "不成立", "unknown": "未知"}


# --- Conditions ----------------------------------------------------------------------------

Tri = bool | None


def describe(condition: Mapping) -> str:
    """A condition in one line, e.g. ``features includes biometric_editing``."""
    if "all" in condition:
        return "(" + " and ".join(describe(c) for c in condition["all"]) + ")"
    if "any" in condition:
        return "(" + " or ".join(describe(c) for c in condition["any"]) + ")"
    if "not" in condition:
        return "not " + describe(condition["not"])
    subject = condition.get("fact") or f"event {condition['event']}"
    op, value = next((k, v) for k, v in condition.items() if k not in ("fact", "event"))
    if op == "reported":
        return f"{subject} reported"
    if isinstance(value, list):
        value = "[" + ", ".join(value) + "]"
    return f"{subject} {op.replace('_', ' ')} {value}"


def members(value: Any) -> tuple[frozenset[str], bool]:
    """A set answer as (the members known, whether that is all of them). A list is the whole
    answer; ``{"includes": [...]}`` says those are among the members and the rest is not known
    ("includes biometric editing; not sure about the others"); a place is a one-member set."""
    if isinstance(value, Mapping):
        return frozenset(value.get("includes", ())), False
    return frozenset([value] if isinstance(value, str) else value), True


def _test(condition: Mapping, answers: Mapping, events: Mapping[str, list[dt.date]], book: Rulebook) -> Tri:
    if "fact" in condition:
        value = answers.get(condition["fact"])
        if value is None:
            return None
        if "is" in condition:
            return value == condition["is"]
        if "in" in condition:
            return value in condition["in"]
        if "includes" in condition or "includes_any" in condition or "within" in condition:
            known, complete = members(value)
            if "within" in condition:
                hit = any(book.within(code, condition["within"]) for code in known)
            else:
                hit = not known.isdisjoint(condition.get("includes_any") or [condition["includes"]])
            # Found among the known members decides; not found decides only a complete answer.
            return True if hit else (False if complete else None)
        if "gte" in condition:
            return value >= condition["gte"]
        return value < condition["lt"]
    dates = events.get(condition["event"])
    if "reported" in condition:
        return bool(dates)  # an unreported event has not happened, as far as anyone knows
    if not dates:
        return None  # the condition asks when it happened: unknown until reported
    if "before" in condition:
        return min(dates) < dt.date.fromisoformat(condition["before"])
    return max(dates) >= dt.date.fromisoformat(condition["on_or_after"])


def check(
    condition: Mapping, answers: Mapping, events: Mapping[str, list[dt.date]], book: Rulebook
) -> tuple[Tri, set[Missing]]:
    """Kleene evaluation of a condition; the missing answers matter only when unknown."""
    if "all" in condition or "any" in condition:
        deciding = "any" in condition  # the value that settles the whole
        missing: set[Missing] = set()
        for part in condition.get("all") or condition["any"]:
            result, need = check(part, answers, events, book)
            if result is deciding:
                return deciding, set()
            if result is None:
                missing |= need
        return (None, missing) if missing else (not deciding, set())
    if "not" in condition:
        result, need = check(condition["not"], answers, events, book)
        return (None if result is None else not result), need
    result = _test(condition, answers, events, book)
    if result is not None:
        return result, set()
    kind, key = ("fact", condition["fact"]) if "fact" in condition else ("event", condition["event"])
    return None, {Missing(kind, key)}


def condition_reads(condition: Mapping) -> tuple[tuple[str, str], ...]:
    """The facts ("fact", key) and events ("event", key) a condition reads, in the order it
    reads them, each once."""
    if "all" in condition or "any" in condition:
        parts = [condition_reads(part) for part in condition.get("all") or condition["any"]]
        return tuple(dict.fromkeys(read for reads in parts for read in reads))
    if "not" in condition:
        return condition_reads(condition["not"])
    return (("fact", condition["fact"]),) if "fact" in condition else (("event", condition["event"]),)


def condition_facts(rule: Rule, answers: Mapping, events: Mapping[str, list[dt.date]]) -> dict[str, Any]:
    """The answers a rule's condition reads, for the reasons."""
    used: dict[str, Any] = {}
    for kind, key in rule.reads:
        if kind == "fact":
            used[key] = answers.get(key)
        else:
            dates = events.get(key)
            used[f"event:{key}"] = [d.isoformat() for d in dates] if dates else None
    return used


# --- The tests -----------------------------------------------------------------------------


def _status(rule: Rule, as_of: dt.date, preview: bool) -> Reason:
    if rule.status == "draft_for_comment":
        return Reason("status", True, "draft_preview") if preview else Reason("status", False, "draft")
    if rule.status == "repealed":
        return Reason("status", False, "repealed")
    if rule.expires and as_of > rule.expires:
        return Reason("status", False, "expired", {"date": rule.expires.isoformat()})
    if rule.effective and as_of < rule.effective:
        return Reason("status", False, "not_yet_effective", {"date": rule.effective.isoformat()})
    if rule.status == "expired" and rule.expires is None:  # expired, end date not recorded
        return Reason("status", False, "expired", {"date": "an unrecorded date"})
    # No date in the text: an item's reasons stay the same from one day to the next.
    en, zh = STATUS_TEXT[rule.status]
    params = {"status": en, "status_zh": zh}
    return Reason("status", True, "in_force", params)


def _scope(rule: Rule, answers: Mapping, book: Rulebook) -> tuple[Reason, set[Missing]]:
    area, unknown = rule.jurisdiction, set()
    for fact in rule.places:
        value = answers.get(fact)
        if value is None:
            unknown.add(Missing("fact", fact))
            continue
        known, complete = members(value)
        for code in sorted(known):
            if book.within(code, area):
                params = {"fact": fact, "value": code, "jurisdiction": area}
                return Reason("jurisdiction", True, "in_scope", params, {fact: value}), set()
        if not complete:
            unknown.add(Missing("fact", fact))
    used = {fact: answers.get(fact) for fact in rule.places}
    if unknown:
        return Reason("jurisdiction", None, "scope_unknown", {"jurisdiction": area}, used), unknown
    params = {"jurisdiction": area, "places": ",".join(rule.places)}
    return Reason("jurisdiction", False, "out_of_scope", params, used), set()


ROLES_MISSING = Missing("fact", "roles")


def _roles(rule: Rule, answers: Mapping, played_set: frozenset[str] | None = None) -> tuple[Reason, set[Missing]]:
    """``played_set``: the roles answer as a set, when the caller made it once for every rule."""
    if EVERYONE in rule.roles:
        return Reason("roles", True, "everyone"), set()
    played = answers.get("roles")
    if played is None:
        return Reason("roles", None, "role_unknown", {"roles": rule.roles_text}), {ROLES_MISSING}
    known, complete = members(played)
    played_set = known if played_set is None else played_set
    matched = rule.roles & played_set
    if matched:
        return Reason("roles", True, "role_match", {"roles": ", ".join(sorted(matched))}, {"roles": played}), set()
    waiting = rule.awaited_by & played_set
    if waiting:
        return Reason("roles", True, "role_awaits", {"roles": ", ".join(sorted(waiting))}, {"roles": played}), set()
    if not complete:  # the roles it is known to play are not these; the others are not known
        return Reason("roles", None, "role_unknown", {"roles": rule.roles_text}, {"roles": played}), {ROLES_MISSING}
    return Reason("roles", False, "role_no_match", {"roles": rule.roles_text}, {"roles": played}), set()


def _conditions(rule: Rule, answers: Mapping, events: Mapping, book: Rulebook) -> tuple[Reason, set[Missing]]:
    assert rule.conditions is not None
    result, missing = check(rule.conditions, answers, events, book)
    verdict = {True: "holds", False: "does not hold", None: "unknown"}[result]
    params = {"condition": rule.conditions_text, "verdict": verdict, "verdict_zh": VERDICT_ZH[verdict]}
    return Reason("conditions", result, "condition", params, condition_facts(rule, answers, events)), missing


@dataclass(frozen=True, slots=True)
class Shared:
    """Status, dates and jurisdiction: the same for every obligation of an instrument, so
    evaluated once per instrument."""

    reasons: list[Reason]
    missing: frozenset[Missing]
    failed: bool


def instrument_tests(rule: Rule, answers: Mapping, as_of: dt.date, book: Rulebook, preview: bool) -> Shared:
    status = _status(rule, as_of, preview)
    if status.result is False:
        return Shared([status], frozenset(), True)
    scope, missing = _scope(rule, answers, book)
    return Shared([status, scope], frozenset(missing), scope.result is False)


def evaluate_rule(
    rule: Rule,
    shared: Shared,
    answers: Mapping,
    events: Mapping[str, list[dt.date]],
    book: Rulebook,
    played_set: frozenset[str] | None = None,
    memo: dict | None = None,
) -> Evaluation:
    """``played_set`` and ``memo`` (the role test by role set, the condition's by condition)
    are shortcuts that ``evaluate`` keeps for one profile."""
    preview = shared.reasons[0].code == "draft_preview"
    if shared.failed:
        return Evaluation(rule, DOES_NOT_APPLY, shared.reasons, [], preview)
    reasons = [*shared.reasons]
    memo = {} if memo is None else memo
    key: tuple = ("roles", rule.roles, rule.awaited_by)
    if key not in memo:
        memo[key] = _roles(rule, answers, played_set)
    reason, need = memo[key]
    reasons.append(reason)
    missing = shared.missing | need if need else shared.missing
    if rule.conditions and reason.result is not False:
        key = ("conditions", rule.condition_key)
        if key not in memo:
            memo[key] = _conditions(rule, answers, events, book)
        reason, need = memo[key]
        reasons.append(reason)
        if need:
            missing = missing | need
    if reason.result is False:
        return Evaluation(rule, DOES_NOT_APPLY, reasons, [], preview)
    if rule.question:
        en, zh = rule.question
        reasons.append(Reason("reading", None, "open_question", {"question": en, "question_zh": zh}))
    if not missing and not rule.question:
        return Evaluation(rule, APPLIES, reasons, [], preview)
    key = ("missing", missing)
    if key not in memo:  # the same answers are missing for many obligations: one ordered list, shared
        facts = book.facts
        memo[key] = sorted(missing, key=lambda m: (m.kind, facts[m.key].order if m.key in facts else 0, m.key))
    return Evaluation(rule, NEEDS_REVIEW, reasons, memo[key], preview)


@dataclass(frozen=True, slots=True)
class RuledOut:
    """The obligations of an instrument that its own tests (status, dates, place) rule out, as
    one entry: most of the catalogue for any profile, so they become one ``Evaluation`` each
    only when someone lists them."""

    rules: list[Rule]
    reasons: list[Reason]
    preview: bool


class Result:
    def __init__(self, as_of: dt.date, parts: list[Evaluation | RuledOut]):
        self.as_of = as_of
        self.parts = parts

    @cached_property
    def evaluations(self) -> list[Evaluation]:
        """Every obligation's evaluation, in the rulebook's order."""
        expanded: list[Evaluation] = []
        for part in self.parts:
            if isinstance(part, RuledOut):
                expanded += [Evaluation(rule, DOES_NOT_APPLY, part.reasons, [], part.preview) for rule in part.rules]
            else:
                expanded.append(part)
        return expanded

    @cached_property
    def decided(self) -> list[Evaluation]:
        """The evaluations of obligations whose instrument passed its tests, in order."""
        return [part for part in self.parts if isinstance(part, Evaluation)]

    def group(self, outcome: Outcome, preview: bool = False) -> list[Evaluation]:
        found = self.evaluations if outcome is DOES_NOT_APPLY else self.decided
        return [e for e in found if e.outcome is outcome and e.preview is preview]

    def counts(self) -> dict[str, int]:
        counted = Counter(e.outcome for e in self.decided if not e.preview)
        counted[DOES_NOT_APPLY] += sum(len(p.rules) for p in self.parts if isinstance(p, RuledOut) and not p.preview)
        return {o.value: counted.get(o, 0) for o in Outcome}


def evaluate(
    book: Rulebook,
    answers: Mapping[str, Any],
    events: Mapping[str, Iterable[dt.date]] | None = None,
    *,
    as_of: dt.date,
    preview_drafts: bool = False,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> Result:
    """Evaluate every obligation of the catalogue for one profile. Drafts for comment never
    apply; with ``preview_drafts`` they are evaluated as if in force and flagged as previews.
    Obligations that apply or may apply get their due date where the events allow."""
    dated = {key: sorted(dates) for key, dates in (events or {}).items() if dates}
    latest = {key: dates[-1] for key, dates in dated.items()}
    played = answers.get("roles")
    try:
        played_set = None if played is None or isinstance(played, Mapping) else frozenset(played)
    except TypeError:  # not a list of roles: _roles reports it as the original value does
        played_set = None
    parts: list[Evaluation | RuledOut] = []
    shared: dict[str, Shared] = {}  # by instrument: its tests
    # Within an instrument, obligations with the same roles, condition and open question get the
    # same verdict: evaluated once, shared by the others (their reasons and missing answers are
    # read-only, like those of a ruled-out instrument); each keeps its own deadline.
    memo: dict = {}  # tests already worked out for this profile, see evaluate_rule
    deadlines: dict[str, RuleOutcome] = {}  # by rule.deadline_key: equal deadlines, one outcome
    for instrument, rules in book.runs:
        tests = shared.get(instrument)
        if tests is None:
            tests = shared[instrument] = instrument_tests(rules[0], answers, as_of, book, preview_drafts)
        if tests.failed:  # most instruments for most profiles: no per-rule tests, no per-rule objects
            parts.append(RuledOut(rules, tests.reasons, tests.reasons[0].code == "draft_preview"))
            continue
        verdicts: dict[tuple, Evaluation] = {}
        for rule in rules:
            first = verdicts.get(rule.signature)
            if first is None:
                evaluation = verdicts[rule.signature] = evaluate_rule(
                    rule, tests, answers, dated, book, played_set, memo
                )
            else:
                evaluation = Evaluation(rule, first.outcome, first.reasons, first.missing, first.preview)
            if evaluation.outcome is not DOES_NOT_APPLY:
                deadline = rule.undated_outcome
                if deadline is None:
                    deadline = deadlines.get(rule.deadline_key)
                    if deadline is None:
                        deadline = rule_due(rule.deadline, events=latest, as_of=as_of, calendar=calendar)
                        deadlines[rule.deadline_key] = deadline
                evaluation.deadline = deadline
            parts.append(evaluation)
    return Result(as_of, parts)


def changed_rules(before: Rulebook, after: Rulebook) -> frozenset[int] | None:
    """The obligations (ids) whose evaluation may differ between two rulebooks: added, retired,
    or changed in anything the engine or the checklist reads (a rule's fields, its kind, its
    instrument's status, dates and places). None when what every rule reads changed (the
    facts, the places, the events), so that any obligation may."""
    if (before.facts, before.parents, before.events) != (after.facts, after.parents, after.events):
        return None
    old = {rule.id: (rule, rule.info.get("kind")) for rule in before.rules}
    new = {rule.id: (rule, rule.info.get("kind")) for rule in after.rules}
    return frozenset(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))


def decisive_questions(result: Result) -> list[tuple[Missing, int]]:
    """Unanswered facts and unreported event dates that would decide needs-review obligations,
    with how many each would decide, most decisive first."""
    counted = Counter(m for e in result.group(Outcome.NEEDS_REVIEW) for m in e.missing)
    return sorted(counted.items(), key=lambda item: (-item[1], item[0].kind, item[0].key))


# --- Profile answers -----------------------------------------------------------------------


def validate_answers(book: Rulebook, answers: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Check answers against the fact vocabulary. Returns the cleaned answers (sets sorted and
    deduplicated; None means unknown and is dropped) and the errors per fact."""
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in answers.items():
        spec = book.facts.get(key)
        if spec is None:
            errors[key] = ["Unknown fact; see /api/v1/facts/."]
            continue
        if value is None:
            continue
        problem, cleaned = _check_value(book, spec, value)
        if problem:
            errors[key] = [problem]
        else:
            clean[key] = cleaned
    return clean, errors


def _check_value(book: Rulebook, spec: FactSpec, value: Any) -> tuple[str, Any]:
    kind = spec.type
    if kind in ("set", "jurisdiction_set"):
        if isinstance(value, dict) and set(value) == {"includes"}:  # partly known
            problem, known = _check_value(book, spec, value["includes"])
            return problem, None if problem else {"includes": known}
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return (
                'Must be a list of strings (an empty list means none), or {"includes": [...]} when '
                "the others are not known.",
                None,
            )
        allowed = spec.values if kind == "set" else frozenset(book.parents)
        unknown = sorted(set(value) - allowed) if allowed is not None else []
        if unknown:
            return f"Not allowed: {', '.join(unknown)}.", None
        return "", sorted(set(value))
    if kind in ("enum", "jurisdiction"):
        allowed = spec.values if kind == "enum" else frozenset(book.parents)
        if not isinstance(value, str):
            return "Must be a string.", None
        if allowed is not None and value not in allowed:
            return f"'{value}' is not allowed.", None
        return "", value
    if kind == "boolean":
        if not isinstance(value, bool):
            return "Must be true or false.", None
        return "", value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "Must be a number.", None
    if value < 0 or value > 10**15:
        return "Must be between 0 and 10^15.", None
    return "", value
