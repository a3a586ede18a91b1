"""The scenario suite: fictional organizations as data files (tests/scenarios/*.yaml), each
with what the catalogue must answer for it, checked through the public applicability API.
The format is in tests/scenarios/README.md."""

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
import yaml

from regulations.models import Instrument, Obligation

pytestmark = pytest.mark.django_db

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))
EXPECTATIONS = {"instruments_apply", "instruments_do_not_apply", "obligations_apply", "obligations_do_not_apply", "due"}
GROUPS = ["applies", "needs_review", "does_not_apply"]


def load(path: Path) -> dict:
    scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    unknown = set(scenario.get("expect", {})) - EXPECTATIONS
    assert not unknown, f"{path.name}: unknown expectations {sorted(unknown)}"
    return scenario


def answer(client, scenario: dict) -> dict:
    events = [{"type": e["type"], "date": str(e["date"])} for e in scenario.get("events", [])]
    body = {"profile": scenario["profile"], "events": events, "as_of": str(scenario["as_of"]), "groups": GROUPS}
    response = client.post("/api/v1/applicability/", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_there_are_scenarios_for_every_instrument():
    scenarios = [load(path) for path in SCENARIOS]
    named = Counter(
        ref.split(":")[0]
        for s in scenarios
        for key in EXPECTATIONS - {"due"}
        for ref in s.get("expect", {}).get(key, [])
    )
    assert len(scenarios) >= 40
    assert set(Instrument.objects.values_list("code", flat=True)) <= set(named)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path, client_for, make_user):
    scenario = load(path)
    api = client_for(make_user("analyst"))
    expect = scenario.get("expect", {})
    refs = set(Obligation.objects.values_list("instrument__code", "key"))
    for key in ("obligations_apply", "obligations_do_not_apply", *expect.get("due", {})):
        for ref in expect.get(key, []) if key.startswith("obligations") else [key]:
            assert tuple(ref.split(":", 1)) in refs, f"{path.name}: no obligation {ref}"
    data = answer(api, scenario)
    outcome = {e["obligation"]: group for group in GROUPS for e in data[group]}
    due = {e["obligation"]: (e["deadline"] or {}).get("due_date") for e in data["applies"]}
    applying = {ref.split(":")[0] for ref, group in outcome.items() if group == "applies"}
    touched = {ref.split(":")[0] for ref, group in outcome.items() if group in ("applies", "needs_review")}
    wrong = {
        "instruments that should apply": sorted(set(expect.get("instruments_apply", [])) - applying),
        "instruments that should not apply": sorted(set(expect.get("instruments_do_not_apply", [])) & touched),
        "obligations that should apply": sorted(
            r for r in expect.get("obligations_apply", []) if outcome.get(r) != "applies"
        ),
        "obligations that should not apply": sorted(
            r for r in expect.get("obligations_do_not_apply", []) if outcome.get(r) != "does_not_apply"
        ),
        "due dates": {
            ref: (due.get(ref), str(date))
            for ref, date in expect.get("due", {}).items()
            if due.get(ref) != (date.isoformat() if isinstance(date, dt.date) else str(date))
        },
    }
    assert {k: v for k, v in wrong.items() if v} == {}, scenario["name"]
