"""Both languages on every catalogue entry: a Chinese and an English summary of every
obligation (neither a copy of the verbatim quote), a short title in each language for every
instrument, and every curator's note in both. The schema requires the fields; these tests
check what a schema cannot."""

import re

import pytest

from regulations.catalog.validation import iter_obligations, read_catalog

CJK = re.compile(r"[\u4e00-\u9fff]")
# Latin words of three or more letters; Chinese text may cite technical names such as "APP".
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
ALLOWED_LATIN = {"APP", "APPs", "ICP", "AIGC", "IPv"}  # technical names (IPv6) kept as written


@pytest.fixture(scope="module")
def catalog():
    return read_catalog()


def test_every_instrument_has_a_short_title_in_both_languages(catalog):
    for instrument in catalog.instruments:
        assert CJK.search(instrument["short_title_zh"]), instrument["code"]
        assert not CJK.search(instrument["short_title_en"]), instrument["code"]


def test_every_obligation_has_both_summaries_and_neither_copies_the_quote(catalog):
    problems = []
    for instrument, obligation in iter_obligations(catalog):
        code = instrument["code"]
        quote, zh, en = obligation["quote_zh"], obligation["summary_zh"], obligation["summary_en"]
        if not CJK.search(zh) or zh.strip("。 ") == quote.strip("。 ") or zh in quote:
            problems.append(f"{code}:{obligation['id']}: summary_zh missing or a copy of the quote")
        # English, though it may cite a Chinese term in brackets (揭榜挂帅).
        if len(LATIN_WORD.findall(en)) < 3 or len(CJK.findall(en)) > len(en) / 10:
            problems.append(f"{code}:{obligation['id']}: summary_en is not English")
        stray = set(LATIN_WORD.findall(zh)) - ALLOWED_LATIN
        if stray:
            problems.append(f"{code}:{obligation['id']}: summary_zh has Latin words {sorted(stray)}")
    assert problems == []


def test_every_curators_note_is_given_in_both_languages(catalog):
    missing = [
        f"{instrument['code']}:{o['id']}"
        for instrument, o in iter_obligations(catalog)
        if bool(o.get("interpretation")) != bool(o.get("interpretation_zh"))
        or (o.get("interpretation_zh") and not CJK.search(o["interpretation_zh"]))
    ]
    assert missing == []


SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


def test_text_a_reader_sees_names_things_in_words_not_keys(catalog):
    """Summaries and curators' notes are shown on the pages: a vocabulary key or a field name
    of the schema (penalty_ref, text_zh) in them would reach the reader as it is."""
    fields = ("summary_zh", "summary_en", "interpretation", "interpretation_zh")
    keyed = [
        f"{instrument['code']}:{o['id']}:{field}: {sorted(set(SNAKE.findall(o[field])))}"
        for instrument, o in iter_obligations(catalog)
        for field in fields
        if SNAKE.search(o.get(field) or "")
    ]
    assert keyed == []


GENERIC_ROLES = {"enterprise", "any_party"}


def test_every_obligation_on_a_generic_role_says_why_it_binds_everyone_in_scope(catalog):
    """A sentence addressed to "enterprises" or "any organization or individual" often bites only
    those who do something (use a service, trade on an exchange, hold a designation): that is a
    role or a condition. Without one, a curator must have read the sentence and said why it
    binds every organization in scope."""
    unreviewed = [
        f"{instrument['code']}:{o['id']}"
        for instrument, o in iter_obligations(catalog)
        if o["kind"] in ("duty", "prohibition", "incentive")
        and set(o["roles"]) <= GENERIC_ROLES
        and not o.get("conditions")
        and not o.get("addressee_reason")
    ]
    assert unreviewed == []
