"""The applicability engine on a small hand-built rulebook (every outcome and rule of the
engine) and on the real catalogue (speed, and that every condition can be evaluated)."""

import dataclasses
import datetime as dt
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regulations.applicability import (
    FactSpec,
    Missing,
    Outcome,
    Rule,
    Rulebook,
    decisive_questions,
    evaluate,
    validate_answers,
)

AS_OF = dt.date(2026, 1, 1)
PLACED_IN_LINGANG = {"registered_in": "CN-SH-LG", "operates_in": [], "data_sourced_in": []}


def rule(ref, *, instrument="cn-law", status="in_force", jurisdiction="CN", roles=("provider",), **extra):
    return Rule(
        ref=ref,
        id=hash(ref),
        instrument=instrument,
        status=status,
        effective=extra.pop("effective", None),
        expires=extra.pop("expires", None),
        jurisdiction=jurisdiction,
        roles=frozenset(roles),
        conditions=extra.pop("conditions", None),
        deadline=extra.pop("deadline", {"kind": "ongoing"}),
    )


def book(*rules):
    return Rulebook(
        rules=list(rules),
        facts={
            "roles": FactSpec("roles", "set", frozenset({"provider", "platform", "any_party"}), 0),
            "registered_in": FactSpec("registered_in", "jurisdiction", None, 1),
            "operates_in": FactSpec("operates_in", "jurisdiction_set", None, 2),
            "data_sourced_in": FactSpec("data_sourced_in", "jurisdiction_set", None, 3),
            "features": FactSpec("features", "set", frozenset({"biometric_editing", "public_opinion_attributes"}), 4),
            "ownership": FactSpec("ownership", "enum", frozenset({"private", "municipal_soe"}), 5),
            "employees": FactSpec("employees", "number", None, 6),
        },
        parents={"CN": None, "CN-SH": "CN", "CN-SH-LG": "CN-SH", "CN-SH-PD": "CN-SH", "CN-BJ": "CN"},
        events=frozenset({"service_launched"}),
    )


def outcome_of(rulebook, answers, events=None, **kwargs):
    result = evaluate(rulebook, answers, events, as_of=kwargs.pop("as_of", AS_OF), **kwargs)
    return {e.rule.ref: e for e in result.evaluations}


def test_role_decides_and_every_test_leaves_a_reason():
    rules = book(rule("for-provider"), rule("for-platform", roles=["platform"]), rule("for-all", roles=["any_party"]))
    result = outcome_of(rules, {"roles": ["provider"], **PLACED_IN_LINGANG})
    assert result["for-provider"].outcome is Outcome.APPLIES
    assert [r.test for r in result["for-provider"].reasons] == ["status", "jurisdiction", "roles"]
    assert result["for-provider"].reasons[1].facts == {"registered_in": "CN-SH-LG"}
    assert result["for-platform"].outcome is Outcome.DOES_NOT_APPLY
    assert result["for-platform"].reasons[-1].text() == "Addressed to platform, which the organization does not play."
    assert result["for-all"].outcome is Outcome.APPLIES


def test_unknown_role_needs_review_and_names_the_fact():
    result = outcome_of(book(rule("r")), PLACED_IN_LINGANG)
    assert result["r"].outcome is Outcome.NEEDS_REVIEW
    assert result["r"].missing == [Missing("fact", "roles")]
    assert result["r"].reasons[-1].result is None


@pytest.mark.parametrize(
    ("place", "jurisdiction", "expected"),
    [
        ({"registered_in": "CN-SH-LG"}, "CN-SH", Outcome.APPLIES),  # Lingang is under Shanghai
        ({"registered_in": "CN-SH-LG"}, "CN", Outcome.APPLIES),
        ({"registered_in": "CN-SH-PD"}, "CN-SH-LG", Outcome.DOES_NOT_APPLY),  # Pudong is not Lingang
        ({"registered_in": "CN-BJ", "operates_in": ["CN-SH-LG"]}, "CN-SH-LG", Outcome.APPLIES),
        ({"registered_in": "CN-BJ", "data_sourced_in": ["CN-SH"]}, "CN-SH", Outcome.APPLIES),
        ({"registered_in": "CN-BJ", "operates_in": ["CN"]}, "CN-SH", Outcome.DOES_NOT_APPLY),
    ],
)
def test_jurisdiction_hierarchy(place, jurisdiction, expected):
    answers = {"roles": ["provider"], "operates_in": [], "data_sourced_in": [], **place}
    assert outcome_of(book(rule("r", jurisdiction=jurisdiction)), answers)["r"].outcome is expected


def test_unknown_place_needs_review_unless_a_known_place_is_in_scope():
    rules = book(rule("r", jurisdiction="CN-SH"))
    unknown = outcome_of(rules, {"roles": ["provider"], "registered_in": "CN-BJ"})["r"]
    assert unknown.outcome is Outcome.NEEDS_REVIEW
    assert unknown.missing == [Missing("fact", "operates_in"), Missing("fact", "data_sourced_in")]
    known = outcome_of(rules, {"roles": ["provider"], "registered_in": "CN-SH-PD"})["r"]
    assert known.outcome is Outcome.APPLIES


def test_drafts_never_apply_but_can_be_previewed():
    rules = book(rule("draft", status="draft_for_comment"))
    answers = {"roles": ["provider"], **PLACED_IN_LINGANG}
    plain = outcome_of(rules, answers)["draft"]
    assert (plain.outcome, plain.preview, plain.reasons[0].code) == (Outcome.DOES_NOT_APPLY, False, "draft")
    preview = outcome_of(rules, answers, preview_drafts=True)["draft"]
    assert (preview.outcome, preview.preview) == (Outcome.APPLIES, True)
    result = evaluate(rules, answers, as_of=AS_OF, preview_drafts=True)
    assert result.counts()["applies"] == 0  # previews are not counted as applying


@pytest.mark.parametrize(
    ("as_of", "expected", "code"),
    [
        (dt.date(2024, 2, 7), Outcome.DOES_NOT_APPLY, "not_yet_effective"),
        (dt.date(2024, 2, 8), Outcome.APPLIES, "in_force"),
        (dt.date(2025, 2, 7), Outcome.APPLIES, "in_force"),  # the last day of a trial still counts
        (dt.date(2025, 2, 8), Outcome.DOES_NOT_APPLY, "expired"),
    ],
)
def test_trial_measures_apply_only_within_their_dates(as_of, expected, code):
    trial = rule(
        "trial", status="trial", jurisdiction="CN-SH-LG", effective=dt.date(2024, 2, 8), expires=dt.date(2025, 2, 7)
    )
    evaluation = outcome_of(book(trial), {"roles": ["provider"], **PLACED_IN_LINGANG}, as_of=as_of)["trial"]
    assert (evaluation.outcome, evaluation.reasons[0].code) == (expected, code)


def test_repealed_and_dateless_expired_instruments_never_apply():
    # Two instruments: obligations of one instrument share its status test, so in one
    # instrument "old" would only repeat the repealed verdict of "gone".
    rules = book(rule("gone", status="repealed"), rule("old", instrument="cn-old-law", status="expired"))
    result = outcome_of(rules, {"roles": ["provider"], **PLACED_IN_LINGANG})
    assert result["gone"].outcome is result["old"].outcome is Outcome.DOES_NOT_APPLY
    assert result["gone"].reasons[0].text() == "The instrument has been repealed."
    # Expired with no end date recorded: the dateless branch, whatever the as-of date.
    assert result["old"].reasons[0].text() == "The instrument expired on an unrecorded date."
    assert result["old"].reasons[0].result is False


def test_conditions_are_three_valued():
    conditions = {
        "all": [
            {"fact": "features", "includes_any": ["biometric_editing", "public_opinion_attributes"]},
            {"not": {"fact": "ownership", "is": "municipal_soe"}},
            {"any": [{"fact": "employees", "gte": 300}, {"fact": "registered_in", "within": "CN-SH"}]},
        ]
    }
    rules = book(rule("r", conditions=conditions))
    base = {"roles": ["provider"], **PLACED_IN_LINGANG}

    def check(**answers):
        return outcome_of(rules, {**base, **answers})["r"]

    assert check(features=["biometric_editing"], ownership="private").outcome is Outcome.APPLIES
    assert check(features=[], ownership="private").outcome is Outcome.DOES_NOT_APPLY
    # One false part decides even while another is unknown.
    assert check(features=[]).outcome is Outcome.DOES_NOT_APPLY
    unknown = check(features=["biometric_editing"])
    assert unknown.outcome is Outcome.NEEDS_REVIEW
    assert unknown.missing == [Missing("fact", "ownership")]
    # The `any` is settled by registration in Shanghai, so employees is never asked for.
    assert "employees" not in {m.key for m in unknown.missing}
    condition_reason = unknown.reasons[-1]
    assert condition_reason.test == "conditions" and condition_reason.result is None
    assert condition_reason.facts["ownership"] is None
    assert "not ownership is municipal_soe" in condition_reason.text()


def test_event_conditions_and_deadlines():
    existing = rule(
        "existing",
        conditions={"event": "service_launched", "before": "2023-08-08"},
        deadline={"kind": "window", "start": "2023-09-01", "end": "2024-03-31"},
    )
    filing = rule(
        "filing",
        deadline={"kind": "after_event", "event": "service_launched", "amount": 10, "unit": "working_days"},
    )
    incident = rule("incident", conditions={"event": "service_launched", "reported": True})
    rules = book(existing, filing, incident)
    answers = {"roles": ["provider"], **PLACED_IN_LINGANG}

    no_events = outcome_of(rules, answers)
    assert no_events["existing"].outcome is Outcome.NEEDS_REVIEW  # when it launched decides
    assert no_events["existing"].missing == [Missing("event", "service_launched")]
    assert no_events["incident"].outcome is Outcome.DOES_NOT_APPLY  # not reported: not happened
    assert no_events["filing"].deadline.reason == "needs_event:service_launched"

    launched = outcome_of(rules, answers, {"service_launched": [dt.date(2025, 1, 20)]})
    assert launched["existing"].outcome is Outcome.DOES_NOT_APPLY
    assert launched["filing"].deadline.due.due_date == dt.date(2025, 2, 8)
    assert launched["incident"].outcome is Outcome.APPLIES

    early = outcome_of(rules, answers, {"service_launched": [dt.date(2023, 5, 1)]})
    assert early["existing"].outcome is Outcome.APPLIES
    assert early["existing"].deadline.due.due_date == dt.date(2024, 3, 31)


def test_reason_texts_exist_in_both_languages():
    result = outcome_of(book(rule("r", jurisdiction="CN-SH")), {"roles": ["provider"], **PLACED_IN_LINGANG})
    texts = [(r.text("en"), r.text("zh")) for r in result["r"].reasons]
    assert texts[1] == ("registered_in CN-SH-LG is within CN-SH.", "registered_in为CN-SH-LG，属于CN-SH范围。")
    assert all(en != zh for en, zh in texts)


def test_decisive_questions_rank_by_how_many_obligations_they_settle():
    rules = book(
        rule("a", conditions={"fact": "ownership", "is": "private"}),
        rule("b", conditions={"fact": "ownership", "is": "private"}),
        rule("c", conditions={"fact": "employees", "gte": 10}),
    )
    result = evaluate(rules, {"roles": ["provider"], **PLACED_IN_LINGANG}, as_of=AS_OF)
    assert decisive_questions(result) == [(Missing("fact", "ownership"), 2), (Missing("fact", "employees"), 1)]


def test_validate_answers_names_each_bad_fact():
    clean, errors = validate_answers(
        book(),
        {
            "roles": ["provider", "provider", "platform"],
            "registered_in": "CN-XX",
            "operates_in": "CN-SH",
            "features": ["flying"],
            "ownership": None,
            "employees": True,
            "colour": "blue",
        },
    )
    assert clean == {"roles": ["platform", "provider"]}
    assert set(errors) == {"registered_in", "operates_in", "features", "employees", "colour"}
    assert errors["features"] == ["Not allowed: flying."]


@given(
    answers=st.fixed_dictionaries(
        {},
        optional={
            "roles": st.lists(st.sampled_from(["provider", "platform"]), unique=True),
            "registered_in": st.sampled_from(["CN", "CN-SH", "CN-SH-LG", "CN-BJ"]),
            "features": st.lists(st.sampled_from(["biometric_editing", "public_opinion_attributes"]), unique=True),
            "ownership": st.sampled_from(["private", "municipal_soe"]),
            "employees": st.integers(0, 1000),
        },
    )
)
def test_answering_a_missing_fact_never_contradicts_a_decided_outcome(answers):
    """Monotonicity: answering more facts can settle a needs-review obligation but never flips
    one that was already decided."""
    rules = book(
        rule(
            "r",
            jurisdiction="CN-SH",
            conditions={
                "any": [
                    {"fact": "ownership", "is": "private"},
                    {"not": {"fact": "features", "includes": "biometric_editing"}},
                ]
            },
        ),
        rule("s", conditions={"all": [{"fact": "employees", "lt": 500}, {"fact": "registered_in", "within": "CN-SH"}]}),
    )
    full = {
        "roles": ["provider"],
        "registered_in": "CN-SH",
        "operates_in": [],
        "data_sourced_in": [],
        "features": ["biometric_editing"],
        "ownership": "municipal_soe",
        "employees": 10,
    }
    partial = outcome_of(rules, answers)
    complete = outcome_of(rules, {**full, **answers})
    for ref, evaluation in partial.items():
        if evaluation.outcome is not Outcome.NEEDS_REVIEW:
            assert complete[ref].outcome is evaluation.outcome
        assert complete[ref].outcome is not Outcome.NEEDS_REVIEW


@pytest.mark.django_db
def test_the_whole_catalogue_evaluates_in_milliseconds():
    from regulations import selectors

    rulebook = selectors.rulebook()
    answers = {
        "roles": ["app_operator", "deep_synthesis_provider", "enterprise"],
        "registered_in": "CN-SH-LG",
        "operates_in": ["CN-SH"],
        "data_sourced_in": [],
        "features": ["biometric_editing", "public_opinion_attributes"],
    }
    result = evaluate(rulebook, answers, {"service_launched": [dt.date(2025, 1, 20)]}, as_of=AS_OF)
    assert len(result.evaluations) == len(rulebook.rules) > 1000
    counts = result.counts()
    assert counts["applies"] > 30 and counts["needs_review"] > 0
    # Not a timing assertion on the fast path (benchmarks measure that): a guard against an
    # accidental quadratic or per-rule query, which would take seconds.
    started = time.perf_counter()
    evaluate(rulebook, answers, as_of=AS_OF)
    assert time.perf_counter() - started < 1.0


@pytest.mark.django_db
def test_every_catalogue_condition_evaluates_with_nothing_answered_and_everything_answered():
    """Every obligation gets an outcome for an empty profile (no crash on unknowns), and none
    stays needs-review once every fact is answered and every event reported."""
    from regulations import selectors

    rulebook = selectors.rulebook()
    empty = evaluate(rulebook, {}, as_of=AS_OF)
    assert {e.outcome for e in empty.evaluations} <= set(Outcome)
    everything = {}
    for key, spec in rulebook.facts.items():
        everything[key] = {
            "set": sorted(spec.values or []),
            "enum": sorted(spec.values or [""])[0],
            "boolean": True,
            "number": 1000,
            "jurisdiction": "CN-SH",
            "jurisdiction_set": ["CN-SH"],
        }[spec.type]
    events = {key: [dt.date(2024, 1, 1)] for key in rulebook.events}
    full = evaluate(rulebook, everything, events, as_of=AS_OF)
    # Only the curators' own open questions still hold an obligation for review.
    held = full.group(Outcome.NEEDS_REVIEW)
    assert held and all(e.rule.question and e.reasons[-1].code == "open_question" for e in held)


def test_an_instrument_now_expired_applied_while_its_dates_ran():
    lingang = rule(
        "lingang",
        status="expired",
        jurisdiction="CN-SH-LG",
        effective=dt.date(2024, 2, 8),
        expires=dt.date(2025, 2, 7),
    )
    answers = {"roles": ["provider"], **PLACED_IN_LINGANG}
    assert outcome_of(book(lingang), answers, as_of=dt.date(2024, 6, 1))["lingang"].outcome is Outcome.APPLIES
    late = outcome_of(book(lingang), answers, as_of=dt.date(2026, 1, 1))["lingang"]
    assert (late.outcome, late.reasons[0].text()) == (Outcome.DOES_NOT_APPLY, "The instrument expired on 2025-02-07.")


def test_an_open_question_holds_what_would_apply_for_review_with_the_question():
    question = ("Does the newsletter sentence bind processors?", "这句摘要是否约束数据处理者？")
    held = dataclasses.replace(rule("held"), question=question)
    conditioned = dataclasses.replace(held, ref="held-if", conditions={"fact": "employees", "gte": 10})
    rules = book(held, conditioned, rule("plain"))
    result = outcome_of(rules, {"roles": ["provider"], "employees": 50, **PLACED_IN_LINGANG})
    assert result["plain"].outcome is Outcome.APPLIES
    for ref in ("held", "held-if"):
        assert result[ref].outcome is Outcome.NEEDS_REVIEW and result[ref].missing == []
        assert result[ref].reasons[-1].code == "open_question"
        assert result[ref].reasons[-1].text("zh") == "条文的理解尚待确认：这句摘要是否约束数据处理者？"
    # What the organization's answers settle still settles it: a question never makes a yes.
    result = outcome_of(rules, {"roles": ["provider"], "employees": 5, **PLACED_IN_LINGANG})
    assert result["held-if"].outcome is Outcome.DOES_NOT_APPLY
    assert outcome_of(rules, {"roles": ["platform"], **PLACED_IN_LINGANG})["held"].outcome is Outcome.DOES_NOT_APPLY
    result = outcome_of(rules, {"roles": ["provider"], **PLACED_IN_LINGANG})
    assert result["held-if"].missing == [Missing("fact", "employees")]
