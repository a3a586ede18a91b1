import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from regulations.catalog.validation import CATALOG_DIR, CatalogInvalid, read_catalog
from regulations.models import CatalogVersion, Instrument, Obligation
from regulations.services import catalog_load

pytestmark = pytest.mark.django_db

CODE = "cn-deep-synthesis-2022"


@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of the bundled catalogue that a test may damage."""
    root = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def edit(root: Path, old: str, new: str, code: str = CODE) -> None:
    path = root / "instruments" / f"{code}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_reloading_unchanged_files_changes_nothing(django_assert_max_num_queries):
    catalog_load()
    versions = CatalogVersion.objects.count()
    with django_assert_max_num_queries(1):
        result = catalog_load()
    assert result.unchanged is True
    assert CatalogVersion.objects.count() == versions


def test_bad_quote_is_rejected_with_file_line_and_entry_and_keeps_previous_catalogue(tree):
    before = list(Obligation.objects.order_by("pk").values_list("pk", "quote_zh"))
    edit(tree, "quote_zh: ", "quote_zh: 并非原文")
    with pytest.raises(CatalogInvalid) as excinfo:
        catalog_load(root=tree)
    (error,) = excinfo.value.errors
    assert error.file.endswith(f"instruments/{CODE}.yaml")
    assert error.line > 1
    assert error.entry.startswith("obligation ")
    assert "not verbatim" in error.message
    assert list(Obligation.objects.order_by("pk").values_list("pk", "quote_zh")) == before


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("status: in_force", "status: in_effect", "is not one of"),
        ("jurisdiction: CN\n", "jurisdiction: CN-XX\n", "unknown jurisdiction 'CN-XX'"),
        ("effective: '2023-01-10'", "effective: '2023-02-30'", "is not a calendar date"),
        ("[deep_synthesis_provider]", "[deep_synthesis_providr]", "unknown role 'deep_synthesis_providr'"),
        ("unit: working_days", "unit: work_days", "is not valid under any of the given schemas"),
        ("  modality: must\n  kind: duty", "  modality: encouraged\n  kind: duty", "'encouraged' is not a duty"),
        ("  modality: must\n  kind: duty", "  modality: may\n  kind: duty", "'may' is not a duty"),
        (
            "  quote_zh: 任何组织和个人不得",
            "  lead_zh: 并非原文的引语\n  quote_zh: 任何组织和个人不得",
            "lead is not verbatim",
        ),
        (
            "  quote_zh: 任何组织和个人不得",
            "  lead_zh: 转载基于深度合成服务\n  quote_zh: 任何组织和个人不得",
            "lead comes after",
        ),
        (
            "  quote_zh: 任何组织和个人不得",
            "  open_question: Is this settled or not?\n  quote_zh: 任何组织和个人不得",
            "both languages",
        ),
    ],
)
def test_catalogue_mistakes_are_named(tree, old, new, message):
    path = tree / "instruments" / f"{CODE}.yaml"
    if old not in path.read_text(encoding="utf-8"):
        old = old.replace("'", "")
        new = new.replace("'", "")
    edit(tree, old, new)
    with pytest.raises(CatalogInvalid) as excinfo:
        read_catalog(tree)
    assert any(message in str(e) and CODE in str(e) for e in excinfo.value.errors), excinfo.value.errors


def test_invalid_yaml_names_the_line(tree):
    path = tree / "instruments" / f"{CODE}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n  bad: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogInvalid) as excinfo:
        read_catalog(tree)
    (error,) = excinfo.value.errors
    assert "not valid YAML" in error.message and error.line is not None


def test_changed_and_removed_obligations_are_updated_and_retired(tree):
    data_path = tree / "instruments" / f"{CODE}.yaml"
    text = data_path.read_text(encoding="utf-8")
    first_summary = text.split("summary_en: ", 2)[2].split("\n", 1)[0]
    edit(tree, "summary_en: " + first_summary, "summary_en: Amended summary.")
    ob_before = Obligation.objects.get(instrument__code=CODE, summary_en=first_summary.strip("'\""))
    result = catalog_load(root=tree)
    assert result.changes["obligation"]["updated"] == 1
    assert result.changes["obligation_keys"]["updated"] == [f"{CODE}:{ob_before.key}"]
    ob_before.refresh_from_db()
    assert ob_before.summary_en == "Amended summary."

    (tree / "instruments" / f"{CODE}.yaml").unlink()
    (tree / "vocabulary" / "acts.yaml").unlink()  # its acts link the removed instrument's duties
    result = catalog_load(root=tree)
    assert result.changes["instrument"]["retired"] == 1
    assert Instrument.objects.get(code=CODE).retired is True
    # Its obligations stay in the database (checklists cite them) but leave the public lists.
    assert Obligation.objects.filter(instrument__code=CODE).exists()


def test_the_changelog_names_what_each_load_added_amended_and_retired(tree):
    from rest_framework.test import APIClient

    catalog_load()
    text = (tree / "instruments" / f"{CODE}.yaml").read_text(encoding="utf-8")
    first_summary = text.split("summary_en: ", 2)[2].split("\n", 1)[0]
    amended = Obligation.objects.get(instrument__code=CODE, summary_en=first_summary.strip("'\""))
    edit(tree, "summary_en: " + first_summary, "summary_en: Amended summary.")
    edit(tree, "status: in_force", "status: repealed")
    catalog_load(root=tree)
    amended.refresh_from_db()  # named as it reads now

    client = APIClient()
    [latest, *older] = client.get("/api/v1/catalog/versions/", HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    assert older and latest["size"]["obligations"] == Obligation.objects.filter(retired=False).count()
    assert latest["obligations"] == {
        "added": [],
        "amended": [{"obligation": f"{CODE}:{amended.key}", "title": amended.title_in("en"), "changed": ["summary"]}],
        "retired": [],
    }
    [instrument] = latest["instruments"]["amended"]
    assert (instrument["instrument"], instrument["changed"]) == (CODE, ["status"])
    zh = client.get("/api/v1/catalog/versions/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"][0]
    assert zh["instruments"]["amended"][0] == {"instrument": CODE, "title": instrument_title_zh(), "changed": ["状态"]}
    assert zh["obligations"]["amended"][0]["changed"] == ["摘要"]

    # A change of addressees alone amends the obligation too.
    edit(tree, "[deep_synthesis_provider]", "[deep_synthesis_provider, app_operator]")
    catalog_load(root=tree)
    latest = client.get("/api/v1/catalog/versions/", HTTP_ACCEPT_LANGUAGE="en").json()["results"][0]
    [roles] = latest["obligations"]["amended"]
    assert roles["changed"] == ["addressees (roles)"]


def instrument_title_zh() -> str:
    return Instrument.objects.get(code=CODE).title_zh


def test_load_catalog_command_reports_errors_and_unchanged(tree, capsys, monkeypatch):
    catalog_load()
    call_command("load_catalog")
    assert "unchanged" in capsys.readouterr().out
    edit(tree, "status: in_force", "status: nope")
    monkeypatch.setattr("regulations.services.CATALOG_DIR", tree)
    monkeypatch.setattr(
        "regulations.management.commands.load_catalog.catalog_load", lambda **kw: catalog_load(root=tree, **kw)
    )
    with pytest.raises(CommandError, match="keeps the previous catalogue"):
        call_command("load_catalog")
    assert f"instruments/{CODE}.yaml" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # An unquoted comma in a flow mapping cuts the label and adds a stray key.
        (
            'name_en: "Small, medium or micro enterprise (under the national SME classification standard)"',
            "name_en: Small, medium or micro enterprise",
            "unknown key 'medium or micro enterprise'",
        ),
        (
            'name_en: "Small, medium or micro enterprise (under the national SME classification standard)"',
            'name_en: ""',
            "name_en must be non-empty text",
        ),
    ],
)
def test_vocabulary_labels_must_be_plain_text_without_stray_keys(tree, old, new, message):
    path = tree / "vocabulary" / "apps_and_robots.yaml"
    path.write_text(path.read_text().replace(old, new))
    with pytest.raises(CatalogInvalid) as refused:
        read_catalog(tree)
    assert any(message in str(error) and "apps_and_robots.yaml" in str(error) for error in refused.value.errors)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{text: 并非原文的句子, reason: scope, note: Where it applies.}", "not verbatim in the source"),
        ("{text: 算法推荐服务提供者, reason: covered_by, note: Said twice.}", "name the obligation"),
        ("{text: 算法推荐服务提供者, reason: scope, obligation: x-y, note: Where.}", "name the obligation"),
        ("{text: 算法推荐服务提供者, reason: covered_by, obligation: no-such, note: Two.}", "no obligation 'no-such'"),
        ("{text: 算法推荐服务提供者, reason: forgot, note: Why not.}", "is not one of"),
    ],
)
def test_a_sentence_left_out_is_in_the_source_and_says_why(tree, entry, message):
    code = "cn-algorithm-recommendation-2021"
    path = tree / "instruments" / f"{code}.yaml"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + f"\nleft_out:\n- {entry}\n", encoding="utf-8")
    with pytest.raises(CatalogInvalid) as excinfo:
        read_catalog(tree)
    assert any(message in str(e) and code in str(e) for e in excinfo.value.errors), excinfo.value.errors
