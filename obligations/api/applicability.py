"""Applicability answers as the API shows them, shared by the stateless endpoint and the
organization's own."""

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, parser_classes
from rest_framework.response import Response

from config.api import StrictFieldsMixin, language
from config.parsers import JSONParser
from regulations import selectors
from regulations.api.deadlines import within_bounds
from regulations.applicability import Evaluation, Outcome, Result, evaluate, validate_answers
from regulations.deadlines import RuleOutcome
from regulations.explain import Labels, provision_label, reason_text

GROUPS = [o.value for o in Outcome]


class ApplicabilityOptionsSerializer(StrictFieldsMixin, serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="Evaluate on this date; today by default.")
    preview_drafts = serializers.BooleanField(
        default=False, help_text="Also evaluate drafts for comment as if in force, listed under 'preview'."
    )
    groups = serializers.ListField(
        child=serializers.ChoiceField(choices=GROUPS),
        required=False,
        help_text="Which outcome groups to list in full; all by default. Counts are always given.",
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


def evaluation_data(evaluation: Evaluation, lang: str, labels: Labels) -> dict:
    rule, info = evaluation.rule, evaluation.rule.info
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
        "summary": info["summary_zh"] if lang == "zh" and info["summary_zh"] else info["summary_en"],
        "outcome": evaluation.outcome.value,
        "track": evaluation.track or "none",
        "preview": evaluation.preview,
        "reasons": [
            {
                "test": r.test,
                "result": r.result,
                "text": reason_text({"code": r.code, "params": r.params}, lang, labels, rule.conditions),
                "facts": dict(r.facts),
            }
            for r in evaluation.reasons
        ],
        "missing": [{"kind": m.kind, "key": m.key} for m in evaluation.missing],
        "deadline": _deadline(rule.deadline, evaluation.deadline, lang, labels),
        "penalty": penalty_data(info["penalty_provision"], info["penalty_text"], lang),
    }


def penalty_data(label: str | None, text: str, lang: str) -> dict | None:
    return {"provision": provision_label(label, lang), "text_zh": text} if label else None


def result_data(result: Result, *, version: str, lang: str, groups: list[str] | None) -> dict:
    wanted = set(groups or GROUPS)
    labels = selectors.labels()
    data: dict[str, Any] = {
        "as_of": result.as_of.isoformat(),
        "catalog_version": version,
        "language": lang,
        "counts": result.counts(),
    }
    for outcome in Outcome:
        items = result.group(outcome) if outcome.value in wanted else []
        data[outcome.value] = [evaluation_data(e, lang, labels) for e in items]
    previewed = [e for e in result.evaluations if e.preview and e.outcome is not Outcome.DOES_NOT_APPLY]
    data["preview"] = [evaluation_data(e, lang, labels) for e in previewed]
    return data


def run(request, *, answers: dict, events: dict[str, list[dt.date]], options: dict, book=None) -> dict:
    book = book or selectors.rulebook()
    as_of = options.get("as_of") or timezone.localdate()
    result = evaluate(
        book,
        answers,
        events,
        as_of=as_of,
        preview_drafts=options.get("preview_drafts", False),
        calendar=selectors.work_calendar(),
    )
    return result_data(result, version=book.version, lang=language(request), groups=options.get("groups"))


@extend_schema(
    request=ApplicabilityRequestSerializer,
    responses={200: ApplicabilityResponseSerializer},
    summary="Which obligations apply to a profile, why, and by when (nothing is stored)",
)
@api_view(["POST"])
# JSON only: a form cannot carry the nested profile and events, and DRF would read them as empty.
@parser_classes([JSONParser])
def applicability_preview(request):
    book = selectors.rulebook()
    payload = ApplicabilityRequestSerializer(data=request.data, context={"book": book})
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    events: dict[str, list[dt.date]] = {}
    for event in data["events"]:
        events.setdefault(event["type"], []).append(event["date"])
    return Response(run(request, answers=data["profile"], events=events, options=data, book=book))
