"""Which obligations apply to an organization, end to end through the API, with the bundled
catalogue: a Lingang company running an app with face-swap features."""

from types import SimpleNamespace

import pytest
from django.apps import apps
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.test import APIClient

from regulations.models import Instrument, Obligation

pytestmark = pytest.mark.django_db

FILING = "cn-deep-synthesis-2022:art19-filing-file-provider"
LINGANG = "sh-lingang-cross-border-data-2024"  # a one-year trial, 2024-02-08 to 2025-02-07
GROUPS = ("applies", "needs_review", "does_not_apply")
LAUNCH = {"type": "service_launched", "date": "2025-01-20"}

# A Lingang company that sends data abroad: the addressee of the Lingang trial measures.
LINGANG_DATA_PROCESSOR = {
    "roles": ["data_processor"],
    "registered_in": "CN-SH-LG",
    "operates_in": ["CN-SH"],
    "data_sourced_in": ["CN-SH"],
    "features": ["cross_border_data"],
}
# A Guiyang company trading data on the Guizhou exchange, where a draft regulation is out for
# comment (gz-data-trading-promotion-draft-2023).
GUIYANG_DATA_TRADER = {
    "roles": ["data_trading_party", "data_provider"],
    "registered_in": "CN-GZ-GY",
    "operates_in": ["CN-GZ"],
    "data_sourced_in": ["CN-GZ"],
    "features": [],
    "sectors": [],
}


@pytest.fixture
def scenario(alice, shanghai_app_profile, bearer_client):
    """Alice signs in, creates a token, and from then on works only with the token: creates
    her organization, answers its profile and reports the app's launch."""
    browser = APIClient()
    assert browser.login(request=HttpRequest(), username="alice", password="pw-alice-123")
    token = browser.post("/api/v1/tokens/", {"name": "compliance-bot"}, format="json").json()["token"]

    client = bearer_client(token)
    response = client.post("/api/v1/organizations/", {"name": "FaceFun Lingang", "slug": "facefun"}, format="json")
    assert response.status_code == 201
    base = f"/api/v1/organizations/{response.json()['id']}/"
    response = client.patch(f"{base}profile/", {"answers": shanghai_app_profile}, format="json")
    assert response.status_code == 200
    response = client.post(f"{base}events/", {**LAUNCH, "subject": "FaceFun app"}, format="json")
    assert response.status_code == 201
    return SimpleNamespace(client=client, base=base, profile=shanghai_app_profile)


def stored(scenario, **params) -> dict:
    """The stored profile's answer, every group listed unless ``groups`` says otherwise."""
    response = scenario.client.get(
        f"{scenario.base}applicability/", {"as_of": "2026-01-01", "groups": GROUPS, **params}
    )
    assert response.status_code == 200, response.json()
    return response.json()


def stateless(client, profile, **fields) -> dict:
    body = {"profile": profile, "groups": list(GROUPS), **fields}
    response = client.post("/api/v1/applicability/", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def find(data, ref) -> dict:
    found = [e for group in (*GROUPS, "preview") for e in data[group] if e["obligation"] == ref]
    assert found, f"{ref} is in no group"
    return found[0]


def reason(evaluation, test) -> dict:
    return next(r for r in evaluation["reasons"] if r["test"] == test)


def instruments(data, *groups) -> set[str]:
    return {e["instrument"] for group in groups for e in data[group]}


def draft_instruments() -> set[str]:
    return set(Instrument.objects.filter(status="draft_for_comment").values_list("code", flat=True))


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= character <= "\u9fff" for character in text)


# --- The stored profile --------------------------------------------------------------------


def test_deep_synthesis_filing_is_due_ten_working_days_after_launch(scenario):
    data = stored(scenario)
    assert data["profile_version"] == 1 and data["as_of"] == "2026-01-01"
    filing = find(data, FILING)
    assert filing["outcome"] == "applies"
    assert filing["deadline"]["kind"] == "after_event"
    assert filing["deadline"]["estimated"] is False
    # 2025-01-20 + 10 working days: the Spring Festival (01-28..02-04) is skipped, and the
    # make-up working days 2025-01-26 (Sunday) and 2025-02-08 (Saturday) count.
    assert filing["deadline"]["due_date"] == "2025-02-08"
    assert any("2025-02-08 (Saturday)" in line for line in filing["deadline"]["explanation"])
    assert reason(filing, "conditions")["facts"] == {"features": scenario.profile["features"]}


def test_filing_deadline_waits_for_the_launch_to_be_reported(scenario):
    data = stateless(scenario.client, scenario.profile, as_of="2026-01-01")
    deadline = find(data, FILING)["deadline"]
    assert deadline["due_date"] is None
    assert deadline["pending"] == "needs_event:service_launched"


def test_every_applicable_obligation_gives_its_reasons(scenario):
    data = stored(scenario)
    assert data["counts"]["applies"] == len(data["applies"]) > 0
    assert {"cn-deep-synthesis-2022", "cn-miit-app-filing-2023"} <= instruments(data, "applies")
    for evaluation in data["applies"]:
        tests = [r["test"] for r in evaluation["reasons"]]
        assert tests[:3] == ["status", "jurisdiction", "roles"], evaluation["obligation"]
        assert all(r["result"] is True and r["text"] for r in evaluation["reasons"]), evaluation["obligation"]
        assert evaluation["missing"] == []
        assert evaluation["preview"] is False
    # Nothing is left open for this fully answered profile, so there is nothing to ask.
    assert data["counts"]["needs_review"] == 0
    assert scenario.client.get(f"{scenario.base}questions/", {"as_of": "2026-01-01"}).json()["questions"] == []


def test_shanghai_instruments_reach_a_lingang_company(scenario):
    """CN-SH-LG lies within CN-SH: Shanghai's instruments are in scope through the registration."""
    data = stored(scenario)
    shanghai = [e for group in GROUPS for e in data[group] if e["instrument"].startswith("sh-")]
    assert {"sh-blockchain-action-plan-2023", "sh-data-elements-action-plan-2023"} <= {
        e["instrument"] for e in shanghai
    }
    for evaluation in shanghai:
        if evaluation["instrument"] == LINGANG:
            continue  # expired on 2026-01-01, see below
        scope = reason(evaluation, "jurisdiction")
        assert scope["result"] is True
        assert scope["facts"] == {"registered_in": "CN-SH-LG"}
        # In words, not keys (the structure stays in "facts").
        assert scope["text"] == "Registered in Lingang Special Area of the Shanghai FTZ, which is within Shanghai."

    # The data-elements plan addresses enterprises; an app company is one, and then it applies.
    # The blockchain plan's support reaches blockchain enterprises only; its 引导 sentences
    # are the government's own tasks.
    as_enterprise = {**scenario.profile, "roles": [*scenario.profile["roles"], "enterprise"]}
    data = stateless(scenario.client, as_enterprise, as_of="2026-01-01")
    assert "sh-data-elements-action-plan-2023" in instruments(data, "applies", "needs_review")
    assert "sh-blockchain-action-plan-2023" not in instruments(data, "applies", "needs_review")
    blockchain = {**as_enterprise, "sectors": ["blockchain"]}
    assert "sh-blockchain-action-plan-2023" in instruments(
        stateless(scenario.client, blockchain, as_of="2026-01-01"), "applies", "needs_review"
    )


def test_shanghai_instruments_do_not_reach_a_beijing_company(scenario):
    beijing = {**scenario.profile, "registered_in": "CN-BJ", "operates_in": ["CN-BJ"]}
    data = stateless(scenario.client, beijing, as_of="2026-01-01")
    assert not any(i.startswith("sh-") for i in instruments(data, "applies", "needs_review"))
    shanghai = [e for e in data["does_not_apply"] if e["instrument"].startswith("sh-") and e["instrument"] != LINGANG]
    assert shanghai and all(reason(e, "jurisdiction")["result"] is False for e in shanghai)
    # National obligations still apply.
    assert find(data, FILING)["outcome"] == "applies"


def test_expired_lingang_trial_does_not_apply_after_its_end(scenario):
    for data in (stored(scenario), stateless(scenario.client, LINGANG_DATA_PROCESSOR, as_of="2026-01-01")):
        lingang = [e for group in GROUPS for e in data[group] if e["instrument"] == LINGANG]
        assert lingang and all(e["outcome"] == "does_not_apply" for e in lingang)
        for evaluation in lingang:
            assert evaluation["reasons"] == [
                {"test": "status", "result": False, "text": "The instrument expired on 2025-02-07.", "facts": {}}
            ]


def test_lingang_trial_does_not_apply_before_it_takes_effect(scenario):
    data = stateless(scenario.client, LINGANG_DATA_PROCESSOR, as_of="2024-01-01")
    lingang = [e for e in data["does_not_apply"] if e["instrument"] == LINGANG]
    assert lingang
    assert {reason(e, "status")["text"] for e in lingang} == {"The instrument takes effect on 2024-02-08."}


@pytest.mark.parametrize("as_of", ["2024-02-08", "2024-06-01", "2025-02-07"])
def test_lingang_trial_applied_during_its_trial_year(scenario, as_of):
    data = stateless(scenario.client, LINGANG_DATA_PROCESSOR, as_of=as_of)
    lingang = [e for group in GROUPS for e in data[group] if e["instrument"] == LINGANG]
    assert lingang
    statuses = {(reason(e, "status")["result"], reason(e, "status")["text"]) for e in lingang}
    assert all(result is True for result, _text in statuses), statuses
    addressed = [e for e in lingang if "data_processor" in e["roles"]]
    assert addressed and all(e["outcome"] in ("applies", "needs_review") for e in addressed)


# --- Drafts --------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", [GUIYANG_DATA_TRADER, LINGANG_DATA_PROCESSOR], ids=["guiyang", "lingang"])
@pytest.mark.parametrize("preview_drafts", [False, True])
def test_drafts_never_apply(scenario, profile, preview_drafts):
    data = stateless(scenario.client, profile, as_of="2026-01-01", preview_drafts=preview_drafts)
    assert "gz-data-trading-promotion-draft-2023" in draft_instruments()
    assert instruments(data, "applies", "needs_review").isdisjoint(draft_instruments())
    if not preview_drafts:
        assert data["preview"] == []


def test_draft_of_the_stored_profile_never_applies(scenario):
    data = stored(scenario, preview_drafts="true")
    assert instruments(data, "applies", "needs_review").isdisjoint(draft_instruments())


def test_drafts_are_previewed_only_on_request(scenario):
    plain = stateless(scenario.client, GUIYANG_DATA_TRADER, as_of="2026-01-01")
    draft = [e for e in plain["does_not_apply"] if e["instrument"] == "gz-data-trading-promotion-draft-2023"]
    assert draft
    assert {reason(e, "status")["text"] for e in draft} == {"A draft for comment creates no binding duty."}

    previewed = stateless(scenario.client, GUIYANG_DATA_TRADER, as_of="2026-01-01", preview_drafts=True)
    preview = previewed["preview"]
    assert "gz-data-trading-promotion-draft-2023" in {e["instrument"] for e in preview}
    assert {e["instrument"] for e in preview} <= draft_instruments()
    for evaluation in preview:
        assert evaluation["preview"] is True
        assert evaluation["outcome"] in ("applies", "needs_review")
        assert reason(evaluation, "status")["text"] == "A draft for comment, previewed as if it were in force."
    # The binding answer is the same with or without the preview.
    for group in ("applies", "needs_review"):
        assert previewed["counts"][group] == plain["counts"][group]
        assert [e["obligation"] for e in previewed[group]] == [e["obligation"] for e in plain[group]]


# --- Languages -----------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["zh", "zh-CN,zh;q=0.9,en;q=0.5", "zh-Hans"])
def test_chinese_titles_and_reasons(scenario, header):
    response = scenario.client.get(f"{scenario.base}applicability/?as_of=2026-01-01", HTTP_ACCEPT_LANGUAGE=header)
    data = response.json()
    assert data["language"] == "zh"
    filing = find(data, FILING)
    assert filing["instrument_title"] == "互联网信息服务深度合成管理规定"
    # A plain-language summary written in Chinese, next to (not instead of) the verbatim quote.
    assert (
        filing["summary"]
        == Obligation.objects.get(instrument__code=FILING.split(":")[0], key=FILING.split(":")[1]).summary_zh
    )
    assert has_chinese(filing["summary"]) and filing["summary"] != filing["quote_zh"]
    assert reason(filing, "status")["text"] == "该文件现行有效。"
    assert all(has_chinese(r["text"]) for e in data["applies"] for r in e["reasons"])


@pytest.mark.parametrize("header", ["en", "en-US,en;q=0.8", None])
def test_english_titles_and_reasons(scenario, header):
    extra = {"HTTP_ACCEPT_LANGUAGE": header} if header else {}
    data = scenario.client.get(f"{scenario.base}applicability/?as_of=2026-01-01", **extra).json()
    assert data["language"] == "en"
    filing = find(data, FILING)
    assert filing["instrument_title"] == (
        "Provisions on the Administration of Deep Synthesis of Internet Information Services"
    )
    assert reason(filing, "status")["text"] == "The instrument is in force."
    assert not any(has_chinese(r["text"]) for e in data["applies"] for r in e["reasons"])


# --- Options of the organization's endpoint ------------------------------------------------


def test_groups_limit_the_lists_but_not_the_counts(scenario):
    full = stored(scenario)
    only = stored(scenario, groups="applies")
    assert only["counts"] == full["counts"]
    assert [e["obligation"] for e in only["applies"]] == [e["obligation"] for e in full["applies"]]
    assert only["does_not_apply"] == [] and full["does_not_apply"] != []


def test_by_default_what_does_not_apply_is_counted_not_listed(scenario):
    full = stored(scenario)
    default = scenario.client.get(f"{scenario.base}applicability/", {"as_of": "2026-01-01"}).json()
    assert default["counts"] == full["counts"] and full["counts"]["does_not_apply"] == len(full["does_not_apply"]) > 0
    assert default["does_not_apply"] == []
    for group in ("applies", "needs_review"):
        assert default[group] == full[group]
    every = stateless(scenario.client, scenario.profile, as_of="2026-01-01")
    plain = scenario.client.post(
        "/api/v1/applicability/", {"profile": scenario.profile, "as_of": "2026-01-01"}, format="json"
    ).json()
    assert plain["does_not_apply"] == [] and plain["counts"] == every["counts"]
    assert plain["applies"] == every["applies"] and plain["needs_review"] == every["needs_review"]


def test_as_of_defaults_to_today(scenario):
    data = scenario.client.get(f"{scenario.base}applicability/").json()
    assert data["as_of"] == timezone.localdate().isoformat()


@pytest.mark.parametrize(
    ("query", "field"),
    [("as_of=2026-01-01&bogus=1", "bogus"), ("as_of=yesterday", "as_of"), ("groups=maybe", "groups")],
)
def test_bad_options_are_a_400_naming_them(scenario, query, field):
    response = scenario.client.get(f"{scenario.base}applicability/?{query}")
    assert response.status_code == 400
    assert field in response.json()


# --- The stateless endpoint ----------------------------------------------------------------


def obligations_row_counts() -> dict[str, int]:
    # Generic over the model: its _default_manager (`objects` for every model here) is typed on Model.
    return {
        model._meta.label: model._default_manager.count() for model in apps.get_app_config("obligations").get_models()
    }


def test_stateless_answer_equals_the_stored_one(scenario):
    kept = stored(scenario)
    given = stateless(scenario.client, scenario.profile, events=[LAUNCH], as_of="2026-01-01")
    assert given["counts"] == kept["counts"]
    for group in GROUPS:
        assert [e["obligation"] for e in given[group]] == [e["obligation"] for e in kept[group]]
    assert find(given, FILING)["deadline"] == find(kept, FILING)["deadline"]


def test_stateless_endpoint_stores_nothing(scenario):
    before = obligations_row_counts()
    stateless(scenario.client, {"roles": ["app_operator"]}, events=[LAUNCH], as_of="2026-01-01")
    stateless(scenario.client, GUIYANG_DATA_TRADER, preview_drafts=True)
    assert obligations_row_counts() == before


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"profile": {"roles": ["not_a_role"]}}, {"profile": ["roles"]}),
        ({"profile": {"registered_in": "CN-XX", "employees": "many"}}, {"profile": ["employees", "registered_in"]}),
        ({"profile": {"no_such_fact": 1}}, {"profile": ["no_such_fact"]}),
        ({"profile": {}, "events": [{"type": "app_went_viral", "date": "2025-01-20"}]}, {"events": None}),
        ({"profile": {}, "events": [{"type": "service_launched", "date": "9999-12-31"}]}, {"events": None}),
        ({"profile": {}, "as_of": "9999-12-31"}, {"as_of": None}),
        ({"profile": {}, "organization": 1}, {"organization": None}),
        ({}, {"profile": None}),
    ],
    ids=["unknown-role", "two-bad-facts", "unknown-fact", "unknown-event", "event-date", "as-of", "extra", "none"],
)
def test_stateless_invalid_input_is_a_400_naming_it(scenario, body, errors):
    response = scenario.client.post("/api/v1/applicability/", body, format="json")
    assert response.status_code == 400
    answer = response.json()
    assert sorted(answer) == sorted(errors)
    for field, facts in errors.items():
        if facts is not None:
            assert sorted(answer[field]) == facts


def test_stateless_endpoint_needs_authentication():
    response = APIClient().post("/api/v1/applicability/", {"profile": {}}, format="json")
    assert response.status_code in (401, 403)


# --- Questions -----------------------------------------------------------------------------


def test_questions_ask_the_most_decisive_facts_first(scenario):
    client, base = scenario.client, scenario.base
    client.put(f"{base}profile/", {"answers": {"roles": scenario.profile["roles"]}}, format="json")
    before = stored(scenario)
    questions = client.get(f"{base}questions/", {"as_of": "2026-01-01"}).json()["questions"]

    keys = [q["key"] for q in questions]
    # Where it is registered and operates decide; where its data come from decides nothing for
    # it (only the expired Lingang measures count that place), so it is not asked.
    assert {"registered_in", "operates_in"} <= set(keys)
    assert "data_sourced_in" not in keys
    assert "roles" not in keys
    decides = [q["decides"] for q in questions]
    assert decides == sorted(decides, reverse=True) and decides[0] > 0
    waiting = {e["obligation"] for e in before["needs_review"]}
    for question in questions:
        assert question["decides"] == len(question["obligations"])
        assert set(question["obligations"]) <= waiting
    assert next(q for q in questions if q["key"] == "registered_in")["question"] == (
        "Where is your organization registered?"
    )

    # Answer the top question as this company would: its data come from its Shanghai users.
    top = questions[0]
    realistic = {**scenario.profile, "data_sourced_in": ["CN-SH"]}
    assert top["kind"] == "fact" and top["key"] in realistic
    client.patch(f"{base}profile/", {"answers": {top["key"]: realistic[top["key"]]}}, format="json")
    after = stored(scenario)
    assert after["counts"]["needs_review"] < before["counts"]["needs_review"]
    remaining = client.get(f"{base}questions/", {"as_of": "2026-01-01"}).json()["questions"]
    assert top["key"] not in [q["key"] for q in remaining]


def test_questions_in_chinese(scenario):
    scenario.client.put(f"{scenario.base}profile/", {"answers": {}}, format="json")
    response = scenario.client.get(f"{scenario.base}questions/?as_of=2026-01-01", HTTP_ACCEPT_LANGUAGE="zh")
    questions = {q["key"]: q for q in response.json()["questions"]}
    assert questions["registered_in"]["question"] == "贵单位注册在哪里？"
    assert questions["roles"]["type"] == "set" and questions["roles"]["values"]


@pytest.mark.parametrize(("header", "label"), [("zh-hans", "第二十二条"), ("en", "Art. 22")])
def test_a_penalty_provision_comes_with_the_duty_it_sanctions(scenario, header, label):
    body = {"profile": scenario.profile, "as_of": "2026-01-01"}
    data = scenario.client.post("/api/v1/applicability/", body, format="json", HTTP_ACCEPT_LANGUAGE=header).json()
    filing = find(data, FILING)
    assert filing["penalty"]["provision"] == label
    assert filing["penalty"]["text_zh"].startswith("第二十二条 深度合成服务提供者和技术支持者违反本规定的")
    assert all(e["penalty"] is None for e in data["applies"] if e["instrument"] == "sh-data-elements-action-plan-2023")
