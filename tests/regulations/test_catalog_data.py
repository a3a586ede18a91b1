"""Tests over the catalogue data itself: a bad catalogue edit cannot land."""

import re
from pathlib import Path

import pytest

from regulations.catalog import coverage
from regulations.catalog.validation import CATALOG_DIR, iter_obligations, normalize, read_catalog

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


@pytest.fixture(scope="module")
def catalog():
    return read_catalog()  # raises, listing every problem, if any file is wrong


def test_catalog_validates_with_every_quote_verbatim(catalog):
    # read_catalog checked each quote against its provision and each provision against the
    # source; check the quote against the whole source too, independently of provisions.
    for instrument, ob in iter_obligations(catalog):
        assert normalize(ob["quote_zh"]) in normalize(catalog.sources[instrument["code"]]), ob["id"]


def test_every_instrument_has_status_source_and_obligations(catalog):
    for instrument in catalog.instruments:
        assert instrument["status"], instrument["code"]
        assert catalog.sources[instrument["code"]].strip(), instrument["code"]
        assert instrument["obligations"], instrument["code"]


def test_every_role_fact_event_and_phase_used_is_defined(catalog):
    vocab = catalog.vocabulary
    used_roles = {r for _, ob in iter_obligations(catalog) for r in ob["roles"]}
    assert used_roles <= set(vocab.roles)
    own_phases = {p["key"] for i in catalog.instruments for p in i.get("phases", [])}
    assert {ob["phase"] for _, ob in iter_obligations(catalog)} <= set(vocab.phases) | own_phases


def test_source_files_are_exact_lines_of_the_bundled_seeds(catalog):
    if not SEEDS.is_dir():
        pytest.skip("the bundled seed documents are not beside this checkout")
    checked = 0
    for instrument in catalog.instruments:
        src = instrument["source"]
        if "seed" not in src:
            assert src["kind"] == "external", instrument["code"]
            continue
        (seed_file,) = SEEDS.glob(f"{src['seed']}_*.txt")
        first, last = src["seed_lines"]
        lines = seed_file.read_text(encoding="utf-8").splitlines(keepends=True)[first - 1 : last]
        assert "".join(lines) == (CATALOG_DIR / "sources" / src["file"]).read_text(encoding="utf-8"), instrument["code"]
        checked += 1
    assert checked == len([i for i in catalog.instruments if i["source"]["kind"] != "external"])


def test_prohibitions_and_drafts_are_consistent(catalog):
    for _, ob in iter_obligations(catalog):
        assert (ob["kind"] == "prohibition") == (ob["modality"] == "must_not"), ob["id"]
    statuses = {i["code"]: i["status"] for i in catalog.instruments}
    for code in (
        "gz-data-trading-promotion-draft-2023",
        "wz-public-data-authorized-operation-draft-2023",
        "sz-public-data-opening-measures-draft-2023",
    ):
        if code in statuses:
            assert statuses[code] == "draft_for_comment", code


def test_flagship_instruments_are_complete(catalog):
    by_code = {i["code"]: i for i in catalog.instruments}
    deep = by_code["cn-deep-synthesis-2022"]
    cited = {ob["ref"] for ob in deep["obligations"]} | {
        label for ob in deep["obligations"] for label in ob.get("see_also", [])
    }
    # Every article that imposes something on someone is cited by at least one obligation.
    articles = [
        "四",
        "六",
        "七",
        "八",
        "九",
        "十",
        "十一",
        "十二",
        "十三",
        "十四",
        "十五",
        "十六",
        "十七",
        "十八",
        "十九",
        "二十",
        "二十一",
        "二十四",
    ]
    for article in (f"第{n}条" for n in articles):
        assert article in cited, article
    filing = [ob for ob in deep["obligations"] if ob["ref"] == "第十九条" and ob["deadline"]["kind"] == "after_event"]
    assert {(ob["deadline"]["event"], ob["deadline"]["amount"]) for ob in filing} == {
        ("service_launched", 10), ("filing_info_changed", 10), ("service_terminated", 20),
    }  # fmt: skip
    app = by_code["cn-miit-app-filing-2023"]
    roles = {r for ob in app["obligations"] for r in ob["roles"]}
    assert {
        "app_operator",
        "network_access_provider",
        "app_distribution_platform",
        "smart_terminal_manufacturer",
        "regulator",
    } <= roles
    decision = [
        ob for ob in app["obligations"] if ob["kind"] == "authority_duty" and ob["deadline"].get("amount") == 20
    ]
    assert decision and decision[0]["deadline"]["unit"] == "working_days"


# The words that make a sentence bind: 应当, 须, 不得 ...
MODAL_WORDS = (
    "应",
    "须",
    "需",
    "要",
    "不得",
    "禁止",
    "严禁",
    "负责",
    "负有",
    "确保",
    "不予",
    "不准",
    "承担",
    "必须",
    "只能",
    "方可",
    "有权",
    "履行",
)
GOVERNMENT = {"government_body", "regulator"}


def _party_named(actor_zh: str, texts: list[str]) -> bool:
    """Whether the source names the party: each name in actor_zh (a parenthesised gloss is
    the curator's, not the text's) occurs in the provision or a provision it refers to."""
    names = [n for n in re.split(r"[、，,]|等", re.sub(r"（[^）]*）", "", actor_zh)) if n]
    joined = "".join(t.replace(" ", "") for t in texts)
    return bool(names) and all(n.replace(" ", "") in joined for n in names)


def test_every_duty_says_who_must_act_or_is_held_for_review(catalog):
    """A duty or prohibition of a party other than the government carries its operative words:
    a modal word in the quote or its lead, or the party named by the text (a work plan item under
    its responsible unit). Otherwise it holds an open question, and the engine shows it as
    needs review with it rather than as a duty nobody wrote."""
    silent = []
    for instrument, ob in iter_obligations(catalog):
        if ob["kind"] not in ("duty", "prohibition") or set(ob["roles"]) <= GOVERNMENT or "open_question" in ob:
            continue
        if any(word in ob.get("lead_zh", "") + ob["quote_zh"] for word in MODAL_WORDS):
            continue
        provisions = {p["label"]: p["text"] for p in instrument["provisions"]}
        texts = [provisions[ob["ref"]], *(provisions[label] for label in ob.get("see_also", []))]
        if not _party_named(ob["actor_zh"], texts):
            silent.append(f"{instrument['code']}:{ob['id']}")
    assert silent == []


def test_open_questions_are_listed_for_curators(catalog):
    """REVIEW.md lists every entry held for review by its own question, so curators find them."""
    review = (CATALOG_DIR / "REVIEW.md").read_text(encoding="utf-8").split("## Open questions carried")[1]
    lines = {line.split()[1]: line for line in review.splitlines() if line.startswith("- ")}
    held = [(i["code"], ob["id"]) for i, ob in iter_obligations(catalog) if "open_question" in ob]
    assert held
    for code, key in held:
        stem = key.rsplit("-", 1)[0]
        assert key in lines.get(code, "") or f"{stem}-" in lines.get(code, ""), (code, key)


def test_every_duty_sentence_of_a_binding_text_is_catalogued_or_left_out_with_a_reason(catalog):
    """Sentence by sentence, not quote by quote: a duty marker (应当, 不得 ...) in a binding, trial
    or draft text is either an obligation's sentence or listed in ``left_out`` with its reason."""
    held = [i for i in catalog.instruments if coverage.held(i)]
    assert len(held) >= 12
    missing = {i["code"]: coverage.uncovered(i, catalog.sources[i["code"]]) for i in held}
    assert {code: sentences for code, sentences in missing.items() if sentences} == {}


@pytest.mark.parametrize(
    ("text", "marked"),
    [
        ("深度合成服务提供者应当落实信息安全主体责任。", True),
        ("任何组织和个人不得利用深度合成服务制作虚假新闻。", True),
        ("由市数据资源局负责牵头组织实施。", True),
        ("未签订的不予立项。", True),
        ("推动人工智能技术在制造业的深度应用。", False),  # 应用: application
        ("建立健全应急处置机制，做好相应保障。", False),  # 应急, 相应
        ("保障算力供应和网络响应能力。", False),  # 供应, 响应
    ],
)
def test_duty_markers_are_words_that_impose_a_duty(text, marked):
    assert bool(coverage.MARKER.search(text)) is marked


def test_requirement_lists_are_split_into_their_items():
    text = "APP主办者应当符合下列要求：（一）具备相应资质；（二）建立健全管理制度。1.定期检查；2.及时报告。"
    assert list(coverage.sentences(text)) == [
        "APP主办者应当符合下列要求：",
        "（一）具备相应资质；",
        "（二）建立健全管理制度。",
        "1.定期检查；",
        "2.及时报告。",
    ]


def test_the_items_of_a_duty_list_are_duty_sentences_whatever_their_words():
    text = "平台应当符合下列要求：（一）具备相应资质；（二）建立管理制度。第五条 数据分为以下类别：（一）一般数据；"
    expected = ["平台应当符合下列要求：", "（一）具备相应资质；", "（二）建立管理制度。"]
    assert list(coverage.modal_sentences(text)) == expected
