"""Reasons a person reads: every reason of the stateless applicability answer, in Chinese and
in English, is a sentence in words. No snake_case vocabulary key, no jurisdiction code, no
instrument code; the Chinese ones are in Chinese. The structure stays available in "facts"."""

import pytest

from tests.plain import CJK, problems, vocabulary

pytestmark = pytest.mark.django_db

# Answered and unanswered facts of every kind, so that every kind of reason and condition occurs.
PROFILE = {
    "roles": ["app_operator", "deep_synthesis_provider", "enterprise", "data_processor"],
    "registered_in": "CN-SH-LG",
    "operates_in": ["CN-SH", "CN-GD-SZ"],
    "features": ["biometric_editing"],
    "sectors": ["news"],
    "employees": 120,
    "conducts_sci_tech_activities": True,
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_reason_is_a_sentence_in_the_readers_language(lang, client_for, make_user):
    response = client_for(make_user("reader")).post(
        "/api/v1/applicability/",
        {"profile": PROFILE, "as_of": "2026-01-01", "groups": ["applies", "needs_review", "does_not_apply"]},
        format="json",
        HTTP_ACCEPT_LANGUAGE=lang,
    )
    assert response.status_code == 200, response.content
    data = response.json()
    groups = ("applies", "needs_review", "does_not_apply")
    texts = [reason["text"] for group in groups for evaluation in data[group] for reason in evaluation["reasons"]]
    assert len(texts) > 1000
    tests = {r["test"] for group in ("applies", "needs_review") for e in data[group] for r in e["reasons"]}
    assert tests == {"status", "jurisdiction", "roles", "conditions"}
    assert problems("\n".join(texts), lang, vocabulary()) == []
    # How each date was computed reads the same way.
    explained = [line for group in groups for e in data[group] for line in (e["deadline"] or {}).get("explanation", [])]
    assert explained
    assert problems("\n".join(explained), lang, vocabulary()) == []
    if lang == "zh":
        assert [t for t in texts + explained if not CJK.search(t)] == []
    else:
        assert [t for t in texts + explained if CJK.search(t)] == []
