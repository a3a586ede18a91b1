"""Applicability answers as the API shows them, shared by the stateless endpoint and the
organization's own."""

import datetime as dt
import logging
from typing import Any

import orjson
from django.db import DatabaseError
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from config.api import StrictFieldsMixin, language
from regulations import selectors
from regulations.api.deadlines import within_bounds
from regulations.applicability import (
    Evaluation,
    Outcome,
    Reason,
    Result,
    Rule,
    Rulebook,
    evaluate,
    validate_answers,
)
from regulations.deadlines import RuleOutcome
from regulations.explain import Labels, provision_label, reason_text

logger = logging.getLogger(__name__)

GROUPS = [o.value for o in Outcome]
# Listed in full unless `groups` asks otherwise: what does not apply is most of the catalogue
# for any profile, so it is counted but listed only on request.
DEFAULT_GROUPS = [Outcome.APPLIES.value, Outcome.NEEDS_REVIEW.value]
DNA = Outcome.DOES_NOT_APPLY


class ApplicabilityOptionsSerializer(StrictFieldsMixin, serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="Evaluate on this date; today by default.")
    preview_drafts = serializers.BooleanField(
        default=False, help_text="Also evaluate drafts for comment as if in force, listed under 'preview'."
    )
    groups = serializers.ListField(
        child=serializers.ChoiceField(choices=GROUPS),
        required=False,
        help_text="Which outcome groups to list in full; applies and needs_review by default. "
        "Counts of all three are always given.",
    )

    def validate_as_of(self, value):
        return within_bounds(value)


class EventInputSerializer(StrictFieldsMixin, serializers.Serializer):
    type = serializers.CharField()
    date = serializers.DateField()

    def validate_date(self, value):
        return within_bounds(value)

    def validate_type(self, value):
        if value not in self.context["book"].events:
            raise serializers.ValidationError(f"'{value}' is not an event type; see /api/v1/events/.")
        return value


class ApplicabilityRequestSerializer(ApplicabilityOptionsSerializer):
    profile = serializers.DictField(
        help_text="Fact answers keyed by fact; leave a fact out (or null) if unknown. A set fact takes a list "
        '(the whole answer; [] for none) or {"includes": [...]} when only some members are known.'
    )
    events = EventInputSerializer(many=True, required=False, default=list)

    def validate_profile(self, value):
        clean, errors = validate_answers(self.context["book"], value)
        if errors:
            raise serializers.ValidationError(errors)
        return clean


class ReasonSerializer(serializers.Serializer):
    test = serializers.ChoiceField(choices=["status", "jurisdiction", "roles", "conditions", "reading"])
    result = serializers.BooleanField(allow_null=True, help_text="null: unknown until a fact is answered.")
    text = serializers.CharField()
    facts = serializers.DictField(help_text="The answers this test read.")


class MissingSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["fact", "event"])
    key = serializers.CharField()


class DeadlineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    due_date = serializers.DateField(allow_null=True)
    opens = serializers.DateField(allow_null=True)
    estimated = serializers.BooleanField()
    explanation = serializers.ListField(
        child=serializers.CharField(), help_text="How the date was computed, step by step, in the request's language."
    )
    pending = serializers.CharField(help_text="Why there is no date: qualitative, ongoing, needs_event:<key>, no_more.")
    text_zh = serializers.CharField(help_text="The text's own timing words, for qualitative deadlines.")


class PenaltySerializer(serializers.Serializer):
    provision = serializers.CharField(help_text="Its label in the reader's language: 第二十二条 / Art. 22.")
    text_zh = serializers.CharField(help_text="The provision's text, verbatim.")


class EvaluationSerializer(serializers.Serializer):
    obligation = serializers.CharField(help_text="instrument-code:obligation-key, as in /api/v1/obligations/.")
    instrument = serializers.CharField()
    instrument_title = serializers.CharField()
    provision = serializers.CharField()
    kind = serializers.CharField()
    modality = serializers.CharField()
    phase = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    quote_zh = serializers.CharField()
    summary = serializers.CharField()
    outcome = serializers.ChoiceField(choices=GROUPS)
    track = serializers.ChoiceField(
        choices=["duty", "opportunity", "expectation", "none"],
        help_text="Where it lands: a duty, an opportunity, an authority's act the organization waits for "
        "(expectation), or none (a goal the region sets itself).",
    )
    preview = serializers.BooleanField()
    reasons = ReasonSerializer(many=True)
    missing = MissingSerializer(many=True)
    deadline = DeadlineSerializer(allow_null=True)
    penalty = PenaltySerializer(allow_null=True, help_text="The provision that sanctions a breach, when there is one.")


class ApplicabilityResponseSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    catalog_version = serializers.CharField()
    language = serializers.ChoiceField(choices=["zh", "en"])
    counts = serializers.DictField(child=serializers.IntegerField())
    applies = EvaluationSerializer(many=True)
    needs_review = EvaluationSerializer(many=True)
    does_not_apply = EvaluationSerializer(many=True)
    preview = EvaluationSerializer(many=True)


def _deadline(rule_deadline, outcome: RuleOutcome | None, lang: str, labels: Labels) -> dict | None:
    if outcome is None:
        return None
    due = outcome.due
    return {
        "kind": rule_deadline["kind"],
        "due_date": due.due_date.isoformat() if due else None,
        "opens": due.opens.isoformat() if due and due.opens else None,
        "estimated": bool(due and due.estimated),
        "explanation": due.lines(lang, lambda key: labels.name("event", key, lang)) if due else [],
        "pending": outcome.reason,
        "text_zh": rule_deadline.get("text_zh", ""),
    }


# An answer is assembled from JSON already written. What it says of an obligation whatever the
# profile (title, provision, quote, summary, penalty) is serialized once per catalogue version
# and language; each distinct verdict once per answer. The engine shares one list of reasons
# among all the obligations of an instrument that does not apply (most of the catalogue for any
# profile) and among those an instrument decides by roles alone, so most entries cost one join.
_static_cache: dict[tuple[str, str], dict[int, bytes]] = {}
_condition_texts: dict[Any, str] = {}  # (rule id, verdict, language): its sentence


def static_json(book: Rulebook, lang: str) -> dict[int, bytes]:
    """Each rule's profile-independent fields as a JSON object left open for its verdict."""
    key = (book.version, lang)
    if key not in _static_cache:
        if any(version != book.version for version, _ in _static_cache):
            _static_cache.clear()
            _condition_texts.clear()
        _static_cache[key] = {rule.id: orjson.dumps(_static(rule, lang))[:-1] for rule in book.rules}
    return _static_cache[key]


def _static(rule: Rule, lang: str) -> dict:
    info = rule.info
    return {
        "obligation": rule.ref,
        "instrument": rule.instrument,
        "instrument_title": info["title_zh"] if lang == "zh" else info["title_en"],
        "provision": info["provision"],
        "kind": info["kind"],
        "modality": info["modality"],
        "phase": info["phase"],
        "roles": sorted(rule.roles),
        "quote_zh": info["quote_zh"],
        "summary": (info["summary_zh"] if lang == "zh" else "") or info["summary_en"],
        "penalty": penalty_data(info["penalty_provision"], info["penalty_text"], lang),
    }


def warm() -> None:
    """Build the catalogue's per-process caches before the first request (gunicorn's worker
    start), so that they are shared by the frozen heap rather than built by a request. A
    database that is not ready yet only means the first request builds them."""
    try:
        book = selectors.rulebook()
        selectors.labels(book)
    except DatabaseError:
        logger.warning("catalogue caches not built at start-up: the database is not ready", exc_info=True)
        return
    for lang in ("zh", "en"):
        static_json(book, lang)


class _Writer:
    """Writes one answer's entries: the static part joined to the verdict's JSON."""

    def __init__(self, book: Rulebook, lang: str):
        self.static = static_json(book, lang)
        self.lang, self.labels = lang, selectors.labels(book)
        self.memo: dict = {}  # for this answer only: its keys are ids of the result's objects

    def entry(self, evaluation: Evaluation) -> orjson.Fragment:
        rule = evaluation.rule
        # Without missing answers or a deadline, a verdict is its reasons' (shared lists).
        shared = not evaluation.missing and evaluation.deadline is None
        key = (id(evaluation.reasons), evaluation.outcome, evaluation.preview, rule.info["kind"])
        verdict = self.memo.get(key) if shared else None
        if verdict is None:
            verdict = b"," + orjson.dumps(self._verdict(evaluation))[1:]
            if shared:
                self.memo[key] = verdict
        return orjson.Fragment(self.static[rule.id] + verdict)

    def _verdict(self, evaluation: Evaluation) -> dict:
        rule, lang, labels = evaluation.rule, self.lang, self.labels
        return {
            "outcome": evaluation.outcome.value,
            "track": evaluation.track or "none",
            "preview": evaluation.preview,
            "reasons": [self._reason(r, rule) for r in evaluation.reasons],
            "missing": [{"kind": m.kind, "key": m.key} for m in evaluation.missing],
            "deadline": _deadline(rule.deadline, evaluation.deadline, lang, labels),
        }

    def _reason(self, r: Reason, rule: Rule) -> dict:
        # A condition's words are the rule's own: the same for every answer with the same verdict.
        key = (rule.id, r.params.get("verdict"), self.lang) if r.test == "conditions" else id(r)
        cache = _condition_texts if r.test == "conditions" else self.memo
        text = cache.get(key)
        if text is None:
            text = cache[key] = reason_text(
                {"code": r.code, "params": r.params}, self.lang, self.labels, rule.conditions
            )
        return {"test": r.test, "result": r.result, "text": text, "facts": dict(r.facts)}


def penalty_data(label: str | None, text: str, lang: str) -> dict | None:
    return {"provision": provision_label(label, lang), "text_zh": text} if label else None


def result_data(result: Result, *, book: Rulebook, lang: str, groups: list[str] | None) -> dict:
    """The answer as the renderer takes it; its entries are JSON fragments (orjson.Fragment)."""
    wanted = set(groups or DEFAULT_GROUPS)
    writer = _Writer(book, lang)
    data: dict[str, Any] = {
        "as_of": result.as_of.isoformat(),
        "catalog_version": book.version,
        "language": lang,
        "counts": result.counts(),
    }
    for outcome in (Outcome.APPLIES, Outcome.NEEDS_REVIEW):
        data[outcome.value] = [writer.entry(e) for e in result.group(outcome)] if outcome.value in wanted else []
    data[DNA.value] = [writer.entry(e) for e in result.group(DNA)] if DNA.value in wanted else []
    data["preview"] = [writer.entry(e) for e in result.decided if e.preview and e.outcome is not DNA]
    return data


def run(request, *, answers: dict, events: dict[str, list[dt.date]], options: dict, current=None) -> dict:
    """``current``: the rulebook and calendar when the caller already read them."""
    book, calendar = current or selectors.current()
    as_of = options.get("as_of") or timezone.localdate()
    result = evaluate(
        book,
        answers,
        events,
        as_of=as_of,
        preview_drafts=options.get("preview_drafts", False),
        calendar=calendar,
    )
    return result_data(result, book=book, lang=language(request), groups=options.get("groups"))


@extend_schema(
    request=ApplicabilityRequestSerializer,
    responses={200: ApplicabilityResponseSerializer},
    summary="Which obligations apply to a profile, why, and by when (nothing is stored)",
    operation_id="applicability_preview",
)
@api_view(["POST"])
def applicability_preview(request):
    current = selectors.current()
    book = current[0]
    payload = ApplicabilityRequestSerializer(data=request.data, context={"book": book})
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    events: dict[str, list[dt.date]] = {}
    for event in data["events"]:
        events.setdefault(event["type"], []).append(event["date"])
    return Response(run(request, answers=data["profile"], events=events, options=data, current=current))
