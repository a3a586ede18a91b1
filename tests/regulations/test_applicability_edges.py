"""Edges of the applicability engine the main tests leave open: the exact reason of every test
(in both languages), each condition operator at its boundary, the evaluator's shortcuts,
deadlines reached through ``evaluate`` and valid answers accepted by ``validate_answers``."""

import dataclasses
import datetime as dt

import pytest

from regulations.applicability import (
    FactSpec,
    Missing,
    Outcome,
    Reason,
    Rulebook,
    Shared,
    changed_rules,
    evaluate,
    evaluate_rule,
    instrument_tests,
    validate_answers,
)
from regulations.deadlines import WorkCalendar, YearSchedule

# Obligations of one instrument share its status, dates and jurisdiction, as in the catalogue.
from .test_applicability import rule

D = dt.date
NOT_A_SET = (
    'Must be a list of strings (an empty list means none), or {"includes": [...]} when the others are not known.'
)
AS_OF = D(2026, 1, 1)
IN_LINGANG = {"registered_in": "CN-SH-LG", "operates_in": [], "data_sourced_in": []}
LINGANG_FACTS = {"registered_in": "CN-SH-LG"}
PROVIDER = {"roles": ["provider"], **IN_LINGANG}
IN_FORCE = Reason("status", True, "in_force", {"status": "in force", "status_zh": "现行有效"})


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
            "listed": FactSpec("listed", "boolean", None, 7),
            "tags": FactSpec("tags", "set", None, 8),  # a set fact with no fixed list of values
            "public_data_of": FactSpec("public_data_of", "jurisdiction_set", None, 9),
        },
        parents={"CN": None, "CN-SH": "CN", "CN-SH-LG": "CN-SH", "CN-SH-PD": "CN-SH", "CN-BJ": "CN"},
        events=frozenset({"service_launched"}),
    )


def evaluations(rulebook, answers, events=None, **kwargs):
    result = evaluate(rulebook, answers, events, as_of=kwargs.pop("as_of", AS_OF), **kwargs)
    return {e.rule.ref: e for e in result.evaluations}


def one(condition, answers, events=None):
    """The evaluation of a single obligation with this condition, for a placed provider."""
    return evaluations(book(rule("r", conditions=condition)), {**PROVIDER, **answers}, events)["r"]


# --- Status ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "dates", "expected", "zh"),
    [
        ("repealed", {}, Reason("status", False, "repealed"), "该文件已废止。"),
        (
            "expired",
            {},
            Reason("status", False, "expired", {"date": "an unrecorded date"}),
            "该文件已于an unrecorded date失效。",
        ),
        (
            "trial",
            {"expires": D(2025, 12, 31)},
            Reason("status", False, "expired", {"date": "2025-12-31"}),
            "该文件已于2025-12-31失效。",
        ),
        (
            "in_force",
            {"effective": D(2026, 1, 2)},
            Reason("status", False, "not_yet_effective", {"date": "2026-01-02"}),
            "该文件自2026-01-02起施行。",
        ),
        ("draft_for_comment", {}, Reason("status", False, "draft"), "征求意见稿不产生约束力。"),
    ],
)
def test_status_reason_names_why_an_instrument_does_not_apply(status, dates, expected, zh):
    evaluation = evaluations(book(rule("r", status=status, **dates)), PROVIDER)["r"]
    assert evaluation.outcome is Outcome.DOES_NOT_APPLY
    assert evaluation.reasons == [expected]  # the later tests are not run
    assert evaluation.missing == []
    assert evaluation.reasons[0].text("zh") == zh


def test_status_reason_in_force_and_on_trial():
    # Each in its own instrument: obligations of one instrument share its status test. The last
    # day of the dates still counts; an instrument now expired applied while its dates ran.
    trial = rule("trial", instrument="trial", status="trial", effective=D(2025, 1, 1), expires=AS_OF)
    expired = rule("expired", instrument="old", status="expired", expires=D(2026, 6, 30))
    result = evaluations(book(rule("law"), trial, expired), PROVIDER)
    assert result["law"].reasons[0] == IN_FORCE
    assert result["law"].reasons[0].text("zh") == "该文件现行有效。"
    assert result["trial"].reasons[0] == Reason(
        "status", True, "in_force", {"status": "in force on trial", "status_zh": "处于试行期"}
    )
    assert result["expired"].reasons[0].text() == "The instrument is in force on that date."


def test_instrument_tests_of_a_failed_status_stop_before_jurisdiction():
    repealed = rule("r", status="repealed")
    shared = instrument_tests(repealed, PROVIDER, AS_OF, book(repealed), False)
    assert shared == Shared([Reason("status", False, "repealed")], frozenset(), True)


# --- Jurisdiction ---------------------------------------------------------------------------


def test_jurisdiction_reasons_name_the_facts_they_used():
    rules = book(rule("sh", jurisdiction="CN-SH"), rule("bj", instrument="bj-law", jurisdiction="CN-BJ"))
    result = evaluations(rules, PROVIDER)
    in_scope = result["sh"].reasons[1]
    assert in_scope == Reason(
        "jurisdiction", True, "in_scope", {"fact": "registered_in", "value": "CN-SH-LG", "jurisdiction": "CN-SH"},
        LINGANG_FACTS,
    )  # fmt: skip
    out = result["bj"]
    assert out.reasons[1] == Reason(
        "jurisdiction", False, "out_of_scope",
        {"jurisdiction": "CN-BJ", "places": "registered_in,operates_in,data_sourced_in"},
        {"registered_in": "CN-SH-LG", "operates_in": [], "data_sourced_in": []},
    )  # fmt: skip
    assert (out.outcome, out.missing) == (Outcome.DOES_NOT_APPLY, [])
    assert out.reasons[1].text() == "None of the places that count for this instrument is within CN-BJ."
    assert out.reasons[1].text("zh") == "与本文件相关的地点均不在CN-BJ范围内。"


def test_jurisdiction_unknown_reason_lists_every_place_fact():
    evaluation = evaluations(book(rule("r", jurisdiction="CN-SH")), {"roles": ["provider"], "registered_in": "CN-BJ"})[
        "r"
    ]
    assert evaluation.reasons[1] == Reason(
        "jurisdiction", None, "scope_unknown", {"jurisdiction": "CN-SH"},
        {"registered_in": "CN-BJ", "operates_in": None, "data_sourced_in": None},
    )  # fmt: skip
    assert evaluation.reasons[1].text("zh") == "尚不清楚组织是否在CN-SH范围内。"


# --- Roles ----------------------------------------------------------------------------------


def test_role_reasons_in_each_case():
    rules = book(
        rule("both", roles=["platform", "provider"]),
        rule("everyone", roles=["any_party", "platform"]),
        rule("other", roles=["platform"]),
    )
    played = evaluations(rules, {"roles": ["provider", "platform"], **IN_LINGANG})
    assert played["both"].reasons[2] == Reason(
        "roles", True, "role_match", {"roles": "platform, provider"}, {"roles": ["provider", "platform"]}
    )
    assert played["everyone"].reasons[2] == Reason("roles", True, "everyone")
    assert played["everyone"].reasons[2].text("zh") == "适用于任何组织和个人。"
    not_played = evaluations(rules, {"roles": ["provider"], **IN_LINGANG})["other"]
    assert not_played.reasons[2] == Reason(
        "roles", False, "role_no_match", {"roles": "platform"}, {"roles": ["provider"]}
    )
    assert (not_played.outcome, not_played.missing, not_played.preview) == (Outcome.DOES_NOT_APPLY, [], False)
    unknown = evaluations(rules, IN_LINGANG)["both"]
    assert unknown.reasons[2] == Reason("roles", None, "role_unknown", {"roles": "platform, provider"})
    assert unknown.reasons[2].text() == "Addressed to platform, provider; the organization's roles are not known."
    assert unknown.reasons[2].text("zh") == "适用于platform, provider，组织角色未知。"
    assert unknown.preview is False


def test_roles_answer_that_is_not_a_list_is_not_read_as_no_role():
    # validate_answers rejects it first; the engine fails loudly rather than decide on it.
    with pytest.raises(TypeError):
        evaluate(book(rule("r")), {"roles": 5, **IN_LINGANG}, as_of=AS_OF)


# --- Conditions -----------------------------------------------------------------------------


def test_condition_text_in_english_and_chinese():
    condition = {
        "all": [
            {"fact": "features", "includes_any": ["biometric_editing", "public_opinion_attributes"]},
            {"not": {"fact": "ownership", "in": ["municipal_soe"]}},
            {"any": [{"fact": "employees", "gte": 300}, {"event": "service_launched", "reported": True}]},
        ]
    }
    text = (
        "(features includes any [biometric_editing, public_opinion_attributes] and not ownership in [municipal_soe]"
        " and (employees gte 300 or event service_launched reported))"
    )
    holds = one(condition, {"features": ["biometric_editing"], "ownership": "private", "employees": 300})
    assert holds.reasons[-1].params == {"condition": text, "verdict": "holds", "verdict_zh": "成立"}
    assert holds.reasons[-1].text() == f"Condition {text}: holds."
    assert holds.reasons[-1].text("zh") == f"条件 {text}：成立。"
    fails = one(condition, {"features": [], "ownership": "private"})
    assert fails.reasons[-1].text("zh") == f"条件 {text}：不成立。"
    unknown = one(condition, {"features": ["biometric_editing"]})
    assert unknown.reasons[-1].text("zh") == f"条件 {text}：未知。"


def test_condition_text_of_event_dates():
    before = one({"event": "service_launched", "before": "2023-08-08"}, {})
    assert before.reasons[-1].params["condition"] == "event service_launched before 2023-08-08"
    since = one({"event": "service_launched", "on_or_after": "2024-01-01"}, {})
    assert since.reasons[-1].params["condition"] == "event service_launched on or after 2024-01-01"


@pytest.mark.parametrize(
    ("condition", "answers", "expected"),
    [
        ({"fact": "ownership", "in": ["private", "municipal_soe"]}, {"ownership": "private"}, True),
        ({"fact": "ownership", "in": ["municipal_soe"]}, {"ownership": "private"}, False),
        ({"fact": "features", "includes": "biometric_editing"}, {"features": []}, False),
        ({"fact": "features", "includes": "biometric_editing"}, {"features": ["biometric_editing"]}, True),
        # A set of places is within an area when any of them is.
        ({"fact": "operates_in", "within": "CN-SH"}, {"operates_in": ["CN-BJ", "CN-SH-LG"]}, True),
        ({"fact": "operates_in", "within": "CN-SH"}, {"operates_in": ["CN-BJ"]}, False),
        ({"fact": "employees", "gte": 300}, {"employees": 300}, True),  # at least: the bound counts
        ({"fact": "employees", "gte": 300}, {"employees": 299}, False),
        ({"fact": "employees", "lt": 500}, {"employees": 500}, False),  # below: the bound does not
        ({"fact": "employees", "lt": 500}, {"employees": 499}, True),
        ({"fact": "listed", "is": True}, {"listed": False}, False),
    ],
)
def test_fact_operators_at_their_bounds(condition, answers, expected):
    evaluation = one(condition, answers)
    assert evaluation.reasons[-1].result is expected
    assert evaluation.outcome is (Outcome.APPLIES if expected else Outcome.DOES_NOT_APPLY)


@pytest.mark.parametrize(
    ("condition", "dates", "expected"),
    [
        # "Before" the publication date: launched that very day is not before it.
        ({"event": "service_launched", "before": "2023-08-08"}, [D(2023, 8, 8)], False),
        ({"event": "service_launched", "before": "2023-08-08"}, [D(2023, 8, 7)], True),
        # The earliest report decides "before", the latest "on or after".
        ({"event": "service_launched", "before": "2023-08-08"}, [D(2025, 1, 20), D(2023, 5, 1)], True),
        ({"event": "service_launched", "on_or_after": "2024-01-01"}, [D(2024, 1, 1), D(2023, 5, 1)], True),
        ({"event": "service_launched", "on_or_after": "2024-01-01"}, [D(2023, 12, 31)], False),
    ],
)
def test_event_date_operators_at_their_bounds(condition, dates, expected):
    evaluation = one(condition, {}, {"service_launched": dates})
    assert evaluation.reasons[-1].result is expected
    assert evaluation.reasons[-1].facts == {"event:service_launched": [d.isoformat() for d in sorted(dates)]}


def test_event_date_condition_needs_the_event_until_reported():
    evaluation = one({"event": "service_launched", "on_or_after": "2024-01-01"}, {})
    assert (evaluation.outcome, evaluation.missing) == (Outcome.NEEDS_REVIEW, [Missing("event", "service_launched")])
    assert evaluation.reasons[-1].facts == {"event:service_launched": None}


def test_all_of_true_parts_holds_and_records_every_fact_used():
    condition = {
        "all": [
            {"fact": "ownership", "is": "private"},
            {"not": {"event": "service_launched", "before": "2023-08-08"}},
            {"any": [{"fact": "employees", "gte": 300}, {"not": {"fact": "registered_in", "within": "CN-BJ"}}]},
        ]
    }
    evaluation = one(condition, {"ownership": "private"}, {"service_launched": [D(2025, 1, 20), D(2024, 3, 1)]})
    assert evaluation.outcome is Outcome.APPLIES
    assert evaluation.reasons[-1].result is True
    assert evaluation.reasons[-1].facts == {
        "ownership": "private",
        "event:service_launched": ["2024-03-01", "2025-01-20"],
        "employees": None,
        "registered_in": "CN-SH-LG",
    }


def test_not_of_a_true_part_does_not_apply():
    evaluation = one({"not": {"fact": "ownership", "is": "municipal_soe"}}, {"ownership": "municipal_soe"})
    assert (evaluation.outcome, evaluation.reasons[-1].result) == (Outcome.DOES_NOT_APPLY, False)
    assert evaluation.reasons[-1].text() == "Condition not ownership is municipal_soe: does not hold."


def test_every_unknown_part_is_asked_in_questionnaire_order():
    condition = {"all": [{"fact": "employees", "gte": 10}, {"fact": "ownership", "is": "private"}]}
    evaluation = one(condition, {})
    assert evaluation.missing == [Missing("fact", "ownership"), Missing("fact", "employees")]


def test_missing_answers_sort_events_first_and_unlisted_facts_as_order_0():
    # Sorted by kind ("event" before "fact"), then questionnaire order, then key; a fact the
    # vocabulary does not list counts as order 0, like roles.
    condition = {"all": [{"fact": "audited", "is": True}, {"event": "service_launched", "on_or_after": "2024-01-01"}]}
    evaluation = evaluations(book(rule("r", conditions=condition)), IN_LINGANG)["r"]
    assert evaluation.missing == [
        Missing("event", "service_launched"),
        Missing("fact", "audited"),
        Missing("fact", "roles"),
    ]
    assert evaluation.preview is False


# --- evaluate_rule on its own -----------------------------------------------------------------


def test_evaluate_rule_without_shortcuts_reads_roles_from_the_answers():
    r = rule("r")
    rulebook = book(r)
    shared = instrument_tests(r, PROVIDER, AS_OF, rulebook, False)
    evaluation = evaluate_rule(r, shared, PROVIDER, {}, rulebook)
    assert evaluation.outcome is Outcome.APPLIES
    assert evaluation.missing == []
    assert evaluation.reasons[2] == Reason("roles", True, "role_match", {"roles": "provider"}, {"roles": ["provider"]})


def test_evaluate_rule_of_a_failed_instrument_returns_its_reasons():
    draft = rule("d", status="draft_for_comment", jurisdiction="CN-BJ")
    rulebook = book(draft)
    shared = instrument_tests(draft, PROVIDER, AS_OF, rulebook, True)
    assert shared.failed is True
    evaluation = evaluate_rule(draft, shared, PROVIDER, {}, rulebook)
    assert (evaluation.rule, evaluation.outcome, evaluation.missing, evaluation.preview) == (
        draft,
        Outcome.DOES_NOT_APPLY,
        [],
        True,
    )
    assert evaluation.reasons == shared.reasons


def test_evaluate_rule_needs_review_of_a_preview_stays_a_preview():
    draft = rule("d", status="draft_for_comment")
    rulebook = book(draft)
    shared = instrument_tests(draft, IN_LINGANG, AS_OF, rulebook, True)
    evaluation = evaluate_rule(draft, shared, IN_LINGANG, {}, rulebook, None, {})
    assert (evaluation.outcome, evaluation.missing, evaluation.preview) == (
        Outcome.NEEDS_REVIEW,
        [Missing("fact", "roles")],
        True,
    )


# --- evaluate: shortcuts, previews, deadlines -------------------------------------------------


def test_condition_free_obligations_of_one_instrument_share_reasons_but_not_deadlines():
    rules = book(
        rule("a", deadline={"kind": "fixed", "date": "2026-03-31"}),
        rule("b", deadline={"kind": "fixed", "date": "2026-06-30"}),
    )
    result = evaluations(rules, IN_LINGANG)  # roles unknown: both need review
    a, b = result["a"], result["b"]
    assert b.rule.ref == "b"
    assert (b.outcome, b.missing, b.preview) == (Outcome.NEEDS_REVIEW, [Missing("fact", "roles")], False)
    assert b.reasons == a.reasons
    assert [r.test for r in b.reasons] == ["status", "jurisdiction", "roles"]
    # The second shares the first's reasons and missing answers (read-only); its deadline is its rule's.
    assert b.reasons is a.reasons and b.missing is a.missing
    assert (a.deadline.due.due_date, b.deadline.due.due_date) == (D(2026, 3, 31), D(2026, 6, 30))


def test_previewed_draft_obligations_are_all_previews():
    rules = book(rule("a", status="draft_for_comment"), rule("b", status="draft_for_comment"))
    result = evaluate(rules, PROVIDER, as_of=AS_OF, preview_drafts=True)
    assert [(e.rule.ref, e.outcome, e.preview) for e in result.evaluations] == [
        ("a", Outcome.APPLIES, True),
        ("b", Outcome.APPLIES, True),
    ]
    assert result.evaluations[1].reasons[0] == Reason("status", True, "draft_preview")
    assert result.evaluations[1].reasons[0].text("zh") == "征求意见稿，按已生效预览。"
    assert result.group(Outcome.APPLIES) == []
    assert [e.rule.ref for e in result.group(Outcome.APPLIES, preview=True)] == ["a", "b"]


def test_previewed_draft_out_of_scope_is_a_preview_that_does_not_apply():
    draft = {"status": "draft_for_comment", "jurisdiction": "CN-BJ"}
    rules = book(rule("a", **draft), rule("b", **draft))
    result = evaluate(rules, PROVIDER, as_of=AS_OF, preview_drafts=True)
    for evaluation in result.evaluations:
        assert (evaluation.outcome, evaluation.missing, evaluation.preview) == (Outcome.DOES_NOT_APPLY, [], True)
        assert [r.code for r in evaluation.reasons] == ["draft_preview", "out_of_scope"]
    assert result.group(Outcome.DOES_NOT_APPLY) == []
    assert len(result.group(Outcome.DOES_NOT_APPLY, preview=True)) == 2
    assert result.counts() == {"applies": 0, "needs_review": 0, "does_not_apply": 0}


def test_previewed_draft_for_another_role_is_a_preview_that_does_not_apply():
    rules = book(rule("a", status="draft_for_comment", roles=["platform"]))
    result = evaluate(rules, PROVIDER, as_of=AS_OF, preview_drafts=True)
    evaluation = result.evaluations[0]
    assert (evaluation.outcome, evaluation.missing, evaluation.preview) == (Outcome.DOES_NOT_APPLY, [], True)
    assert [r.code for r in evaluation.reasons] == ["draft_preview", "in_scope", "role_no_match"]
    assert result.group(Outcome.DOES_NOT_APPLY, preview=True) == [evaluation]


def test_result_counts_and_groups_each_outcome():
    rules = book(
        rule("applies"),
        rule("review", conditions={"fact": "ownership", "is": "private"}),
        rule("no", roles=["platform"]),
        rule("preview", instrument="draft", status="draft_for_comment"),
    )
    result = evaluate(rules, PROVIDER, as_of=AS_OF, preview_drafts=True)
    assert result.as_of == AS_OF
    assert result.counts() == {"applies": 1, "needs_review": 1, "does_not_apply": 1}
    assert [e.rule.ref for e in result.group(Outcome.APPLIES)] == ["applies"]
    assert [e.rule.ref for e in result.group(Outcome.NEEDS_REVIEW)] == ["review"]
    assert [e.rule.ref for e in result.group(Outcome.DOES_NOT_APPLY)] == ["no"]
    assert [e.rule.ref for e in result.group(Outcome.APPLIES, preview=True)] == ["preview"]


def test_evaluate_gives_recurring_deadlines_from_the_as_of_date():
    quarterly = {"kind": "recurring", "rrule": "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1", "anchor": "schedule"}
    rules = book(rule("r", deadline={**quarterly, "dtstart": "2023-12-31"}))
    deadline = evaluations(rules, PROVIDER, as_of=D(2024, 7, 1))["r"].deadline
    assert deadline.due.due_date == D(2024, 9, 30)
    assert deadline.due.lines() == [
        "The schedule is every 3 months, on the month's last day; this is the next period on or after 2024-07-01."
    ]


def test_evaluate_counts_working_days_on_the_given_calendar():
    filing = rule(
        "r", deadline={"kind": "after_event", "event": "service_launched", "amount": 2, "unit": "working_days"}
    )
    events = {"service_launched": [D(2026, 12, 30)]}
    recorded = WorkCalendar({2027: YearSchedule(2027, {D(2027, 1, 1): "New Year's Day"}, frozenset({D(2027, 1, 2)}))})
    due = evaluations(book(filing), PROVIDER, events, calendar=recorded)["r"].deadline.due
    assert (due.due_date, due.estimated) == (D(2027, 1, 2), False)
    guessed = evaluations(book(filing), PROVIDER, events)["r"].deadline.due
    assert (guessed.due_date, guessed.estimated) == (D(2027, 1, 4), True)


# --- Jurisdiction tree ------------------------------------------------------------------------


def test_ancestors_are_the_code_and_every_area_above_it():
    rulebook = book()
    assert rulebook.ancestors("CN-SH-LG") == frozenset({"CN-SH-LG", "CN-SH", "CN"})
    assert rulebook.ancestors("CN-XX") == frozenset({"CN-XX"})  # unknown code: only itself
    looped = Rulebook(rules=[], facts={}, parents={"A": "B", "B": "A"}, events=frozenset())
    assert looped.ancestors("A") == frozenset({"A", "B"})  # a cycle in the data ends the walk


# --- validate_answers -------------------------------------------------------------------------


def test_validate_answers_accepts_and_cleans_every_kind_of_fact():
    clean, errors = validate_answers(
        book(),
        {
            "colour": "blue",  # an unknown fact first: the valid answers after it still count
            "roles": ["provider", "platform", "provider"],
            "registered_in": "CN-SH",
            "operates_in": ["CN-SH-LG", "CN-BJ", "CN-SH-LG"],
            "data_sourced_in": [],
            "features": ["public_opinion_attributes"],
            "tags": ["anything", "goes"],
            "ownership": "municipal_soe",
            "employees": 1000,
            "listed": False,
        },
    )
    assert errors == {"colour": ["Unknown fact; see /api/v1/facts/."]}
    assert clean == {
        "roles": ["platform", "provider"],
        "registered_in": "CN-SH",
        "operates_in": ["CN-BJ", "CN-SH-LG"],
        "data_sourced_in": [],
        "features": ["public_opinion_attributes"],
        "tags": ["anything", "goes"],
        "ownership": "municipal_soe",
        "employees": 1000,
        "listed": False,
    }


@pytest.mark.parametrize("value", [0, 2.5, 10**15])
def test_validate_answers_accepts_numbers_within_bounds(value):
    assert validate_answers(book(), {"employees": value}) == ({"employees": value}, {})


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        (
            "operates_in",
            "CN-SH",
            NOT_A_SET,
        ),
        (
            "operates_in",
            ["CN-SH", 1],
            NOT_A_SET,
        ),
        ("operates_in", ["CN-XX", "CN-SH"], "Not allowed: CN-XX."),
        ("features", ["swimming", "flying"], "Not allowed: flying, swimming."),
        ("registered_in", ["CN-SH"], "Must be a string."),
        ("registered_in", "CN-XX", "'CN-XX' is not allowed."),
        ("ownership", "state", "'state' is not allowed."),
        ("listed", "yes", "Must be true or false."),
        ("employees", True, "Must be a number."),
        ("employees", "12", "Must be a number."),
        ("employees", -1, "Must be between 0 and 10^15."),
        ("employees", 10**15 + 1, "Must be between 0 and 10^15."),
    ],
)
def test_validate_answers_rejects_with_a_message(key, value, error):
    assert validate_answers(book(), {key: value}) == ({}, {key: [error]})


def test_the_stateless_answer_dates_timing_words_tied_to_a_reported_event():
    incident = rule("r", deadline={"kind": "qualitative", "text_zh": "立即", "event": "incident_detected"})
    waiting = evaluations(book(incident), PROVIDER)["r"].deadline
    assert (waiting.due, waiting.reason) == (None, "qualitative")
    dated = evaluations(book(incident), PROVIDER, {"incident_detected": [D(2026, 3, 10)]})["r"].deadline
    assert dated.due.due_date == D(2026, 3, 10)


def test_an_instrument_reaches_only_through_the_places_it_names():
    """Public-data rules follow whose public data an organization uses, not where it is
    registered: a Lingang company using Pudong's public data is under Pudong's rules, and one
    merely registered in Pudong is not."""
    pudong_rules = dataclasses.replace(rule("r", jurisdiction="CN-SH-PD"), places=("public_data_of",))
    rulebook = book(pudong_rules)
    registered_there = {"roles": ["provider"], "registered_in": "CN-SH-PD", "public_data_of": []}
    using_its_data = {"roles": ["provider"], "registered_in": "CN-SH-LG", "public_data_of": ["CN-SH-PD"]}
    not_asked = {"roles": ["provider"], "registered_in": "CN-SH-PD"}
    assert evaluations(rulebook, registered_there)["r"].outcome is Outcome.DOES_NOT_APPLY
    assert evaluations(rulebook, using_its_data)["r"].outcome is Outcome.APPLIES
    waiting = evaluations(rulebook, not_asked)["r"]
    assert (waiting.outcome, waiting.missing) == (Outcome.NEEDS_REVIEW, [Missing("fact", "public_data_of")])


# --- Set answers that are partly known -----------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "answer", "expected"),
    [
        # "Includes biometric editing; not sure about the others."
        ({"fact": "features", "includes": "biometric_editing"}, {"includes": ["biometric_editing"]}, Outcome.APPLIES),
        (
            {"fact": "features", "includes": "public_opinion_attributes"},
            {"includes": ["biometric_editing"]},
            Outcome.NEEDS_REVIEW,
        ),
        ({"fact": "features", "includes": "public_opinion_attributes"}, ["biometric_editing"], Outcome.DOES_NOT_APPLY),
        (
            {"fact": "features", "includes_any": ["public_opinion_attributes", "biometric_editing"]},
            {"includes": ["biometric_editing"]},
            Outcome.APPLIES,
        ),
        (
            {"not": {"fact": "features", "includes": "public_opinion_attributes"}},
            {"includes": []},
            Outcome.NEEDS_REVIEW,
        ),
    ],
)
def test_a_partly_known_set_decides_only_what_its_known_members_decide(condition, answer, expected):
    evaluation = one(condition, {**PROVIDER, "features": answer})
    assert evaluation.outcome is expected
    if expected is Outcome.NEEDS_REVIEW:
        assert evaluation.missing == [Missing("fact", "features")]


def test_partly_known_roles_and_places():
    rulebook = book(rule("r", roles=("platform",)), rule("s", instrument="bj-law", jurisdiction="CN-BJ"))
    partly = {"roles": {"includes": ["provider"]}, "registered_in": "CN-SH-LG", "operates_in": {"includes": []}}
    found = evaluations(rulebook, {**partly, "data_sourced_in": []})
    # Known to be a provider, not known whether also a platform: the platform's duty waits.
    assert (found["r"].outcome, found["r"].missing) == (Outcome.NEEDS_REVIEW, [Missing("fact", "roles")])
    # Registered in Shanghai, operating in places not all known: Beijing's rules wait.
    assert (found["s"].outcome, found["s"].missing) == (Outcome.NEEDS_REVIEW, [Missing("fact", "operates_in")])
    complete = evaluations(rulebook, {**partly, "roles": ["provider"], "operates_in": [], "data_sourced_in": []})
    assert complete["r"].outcome is complete["s"].outcome is Outcome.DOES_NOT_APPLY


def test_a_partly_known_answer_is_checked_like_a_whole_one():
    rulebook = book(rule("r"))
    clean, errors = validate_answers(rulebook, {"features": {"includes": ["biometric_editing", "biometric_editing"]}})
    assert (clean, errors) == ({"features": {"includes": ["biometric_editing"]}}, {})
    _, errors = validate_answers(rulebook, {"features": {"includes": ["flying"]}, "roles": {"maybe": ["provider"]}})
    assert errors["features"] == ["Not allowed: flying."]
    assert errors["roles"][0].startswith("Must be a list of strings")


# --- What a catalogue change can change -----------------------------------------------------


def test_changed_rules_names_the_obligations_whose_evaluation_may_differ():
    a, b, c = rule("a"), rule("b", conditions={"fact": "ownership", "is": "private"}), rule("c")
    before = book(a, b, c)
    assert changed_rules(before, book(a, b, c)) == frozenset()
    # Words only (display fields): nothing the engine reads.
    assert changed_rules(before, book(dataclasses.replace(a, info={"summary_en": "New words."}), b, c)) == frozenset()
    changed = book(
        dataclasses.replace(a, roles=frozenset({"platform"})),  # roles
        dataclasses.replace(b, conditions={"fact": "ownership", "is": "municipal_soe"}),  # condition
        dataclasses.replace(c, info={"kind": "incentive"}),  # its kind: the checklist's track
    )
    assert changed_rules(before, changed) == {a.id, b.id, c.id}
    # The instrument's own fields are each rule's: a new date or place changes all of them.
    moved = book(*(dataclasses.replace(r, jurisdiction="CN-SH") for r in (a, b)), c)
    assert changed_rules(before, moved) == {a.id, b.id}
    assert changed_rules(before, book(dataclasses.replace(a, expires=dt.date(2026, 1, 1)), b, c)) == {a.id}
    # Added and retired.
    d = rule("d")
    assert changed_rules(before, book(a, b, d)) == {c.id, d.id}
    # What every rule reads: any obligation may change.
    wider = book(a, b, c)
    wider.parents = {**wider.parents, "CN-SH-XH": "CN-SH"}
    assert changed_rules(before, wider) is None
    fewer = book(a, b, c)
    fewer.facts = {k: v for k, v in fewer.facts.items() if k != "listed"}
    assert changed_rules(before, fewer) is None
