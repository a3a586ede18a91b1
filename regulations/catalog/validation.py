"""Reading and checking catalogue files, without Django.

The catalogue is a folder of YAML files, one per instrument, plus a vocabulary folder and the
instruments' source texts. Everything here is pure so that curators (and the data tests) can
check a change with ``python -m regulations.catalog.validation`` before anything touches a
database. Every problem is reported with its file, line and entry; a catalogue with any
problem is rejected whole by the loader.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from dateutil.rrule import rrulestr

from regulations import places

CATALOG_DIR = Path(__file__).resolve().parent
SCHEMA_PATH = CATALOG_DIR / "schema.json"

_WS = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Fold whitespace runs to one space: the sources break lines and pages mid-sentence, so a
    verbatim quote may span a line break that the YAML author wrote as a space."""
    return _WS.sub(" ", text).strip()


@dataclass(frozen=True)
class CatalogError:
    file: str
    line: int | None
    entry: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.entry}: {self.message}" if self.entry else f"{where}: {self.message}"


class CatalogInvalid(Exception):
    def __init__(self, errors: list[CatalogError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


# --- YAML with line numbers ---------------------------------------------------------------


# The base class is picked at run time (getattr), which mypy cannot type: hence the ignore.
class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loader (libyaml when present) that keeps dates as strings: the schema checks their
    form and the validator parses them, so a bad date is reported like any other field."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _line_map(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            _line_map(value_node, (*path, key_node.value), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, (*path, i), out)
    return out


def read_yaml(path: Path) -> tuple[Any, dict[tuple, int]]:
    """Parse once into nodes (for line numbers), then build the data from those nodes."""
    loader = _Loader(path.read_text(encoding="utf-8"))
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        return loader.construct_document(node), _line_map(node)
    finally:
        loader.dispose()


def _line(lines: dict[tuple, int], path: tuple) -> int | None:
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


# --- Vocabulary ---------------------------------------------------------------------------

VOCAB_SECTIONS = {
    "jurisdictions": "code",
    "phases": "key",
    "roles": "key",
    "facts": "key",
    "events": "key",
    # Acts several obligations ask for, with the obligations ("instrument-code:id") that ask for each.
    "acts": "key",
}
# The keys each vocabulary entry may have. An unquoted comma in a YAML flow mapping
# ({name_en: Small, medium or micro}) silently cuts a label and adds a key; this catches it.
VOCAB_KEYS = {
    "jurisdictions": {"code", "parent", "name_zh", "name_en"},
    "phases": {"key", "name_zh", "name_en", "description_en", "description_zh"},
    "roles": {"key", "name_zh", "name_en", "description_en", "description_zh", "aliases_zh"},
    "facts": {
        "key",
        "type",
        "name_zh",
        "name_en",
        "question_zh",
        "question_en",
        "description_zh",
        "description_en",
        "values",
        "values_from",
        "unit",
    },
    "events": {"key", "name_zh", "name_en", "description_en", "description_zh"},
    "acts": {"key", "name_zh", "name_en", "description_en", "description_zh", "obligations"},
    "values": {"key", "name_zh", "name_en", "description_en", "description_zh"},
}
VOCAB_LABELS = ("name_zh", "name_en", "question_zh", "question_en")
FACT_TYPES = {"set", "enum", "boolean", "number", "jurisdiction", "jurisdiction_set"}


@dataclass
class Vocabulary:
    jurisdictions: dict[str, dict] = field(default_factory=dict)
    phases: dict[str, dict] = field(default_factory=dict)
    roles: dict[str, dict] = field(default_factory=dict)
    facts: dict[str, dict] = field(default_factory=dict)
    events: dict[str, dict] = field(default_factory=dict)
    acts: dict[str, dict] = field(default_factory=dict)

    def fact_values(self, key: str) -> set[str] | None:
        fact = self.facts[key]
        if fact.get("values_from") == "roles":
            return set(self.roles)
        if "values" in fact:
            return {v["key"] for v in fact["values"]}
        return None

    def ancestors(self, code: str) -> list[str]:
        """The code and every jurisdiction above it, nearest first."""
        return places.ancestors(code, {c: j.get("parent") for c, j in self.jurisdictions.items()})


def load_vocabulary(folder: Path, errors: list[CatalogError]) -> Vocabulary:
    vocab = Vocabulary()
    pending_values: list[tuple[str, dict, dict]] = []
    for path in sorted(folder.glob("*.yaml")):
        name = _relname(path)
        try:
            data, lines = read_yaml(path)
        except yaml.YAMLError as exc:
            errors.append(CatalogError(name, _mark_line(exc), "", f"not valid YAML: {exc}"))
            continue
        for section, id_field in VOCAB_SECTIONS.items():
            for i, item in enumerate((data or {}).get(section, [])):
                key = item.get(id_field)
                line = _line(lines, (section, i))
                target = getattr(vocab, section)
                if not key:
                    errors.append(CatalogError(name, line, f"{section}[{i}]", f"missing '{id_field}'"))
                elif key in target:
                    errors.append(CatalogError(name, line, f"{section} {key}", "defined twice"))
                else:
                    target[key] = item
                errors += _entry_problems(name, line, f"{section} {key}", item, VOCAB_KEYS[section])
                for value in item.get("values") or []:
                    errors += _entry_problems(name, line, f"{section} {key}", value, VOCAB_KEYS["values"])
        pending_values.append((name, lines, data or {}))
        unknown = set(data or {}) - set(VOCAB_SECTIONS) - {"fact_values"}
        if unknown:
            errors.append(CatalogError(name, 1, "", f"unknown sections {sorted(unknown)}"))
    # A domain file may add values to a fact defined elsewhere (a new sector, say).
    for name, lines, data in pending_values:
        for key, values in data.get("fact_values", {}).items():
            fact = vocab.facts.get(key)
            line = _line(lines, ("fact_values", key))
            if fact is None or "values" not in fact:
                errors.append(
                    CatalogError(name, line, f"fact_values {key}", "no fact with a list of values by that key")
                )
                continue
            known = {v["key"] for v in fact["values"]}
            for value in values:
                errors += _entry_problems(name, line, f"fact_values {key}", value, VOCAB_KEYS["values"])
                if value["key"] in known:
                    errors.append(
                        CatalogError(name, line, f"fact_values {key}", f"value '{value['key']}' is defined twice")
                    )
                fact["values"].append(value)
                known.add(value["key"])
    for code, j in vocab.jurisdictions.items():
        if j.get("parent") and j["parent"] not in vocab.jurisdictions:
            errors.append(CatalogError("vocabulary", None, f"jurisdiction {code}", f"unknown parent {j['parent']}"))
    for key, fact in vocab.facts.items():
        if fact.get("type") not in FACT_TYPES:
            errors.append(CatalogError("vocabulary", None, f"fact {key}", f"type must be one of {sorted(FACT_TYPES)}"))
    return vocab


def _entry_problems(name: str, line: int | None, where: str, item: dict, allowed: set[str]) -> list[CatalogError]:
    """Unknown keys, and labels that are not plain, non-empty text."""
    problems = [
        CatalogError(name, line, where, f"unknown key {key!r} (an unquoted comma in a flow mapping?)")
        for key in item
        if key not in allowed
    ]
    for label in VOCAB_LABELS:
        if label in item and not (isinstance(item[label], str) and item[label].strip()):
            problems.append(CatalogError(name, line, where, f"{label} must be non-empty text"))
    for label in ("name_zh", "name_en"):
        if label not in item:
            problems.append(CatalogError(name, line, where, f"missing {label}"))
    return problems


def _mark_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark else None


def _relname(path: Path) -> str:
    try:
        return str(path.relative_to(CATALOG_DIR.parent.parent))
    except ValueError:
        return str(path)


# --- Instruments --------------------------------------------------------------------------


@dataclass
class Catalog:
    vocabulary: Vocabulary
    instruments: list[dict]
    sources: dict[str, str]
    content_hash: str

    @property
    def obligation_count(self) -> int:
        return sum(len(i["obligations"]) for i in self.instruments)

    @property
    def provision_count(self) -> int:
        return sum(len(i["provisions"]) for i in self.instruments)


_schema_validator: jsonschema.Draft202012Validator | None = None


def schema_validator() -> jsonschema.Draft202012Validator:
    global _schema_validator
    if _schema_validator is None:
        schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
        _schema_validator = jsonschema.Draft202012Validator(schema)
    return _schema_validator


def _schema_errors(data: Any, lines: dict, name: str) -> list[CatalogError]:
    out = []
    for err in sorted(schema_validator().iter_errors(data), key=lambda e: list(e.absolute_path)):
        # oneOf failures are opaque; report the branch that matched the 'kind' or shape best.
        best = jsonschema.exceptions.best_match([err])
        path = tuple(best.absolute_path)
        out.append(CatalogError(name, _line(lines, path), _entry(data, path), best.message))
    return out


def _entry(data: Any, path: tuple) -> str:
    """A human name for where in the file a problem is: the obligation id when there is one."""
    if len(path) >= 2 and path[0] in ("obligations", "provisions") and isinstance(path[1], int):
        try:
            item = data[path[0]][path[1]]
            ident = item.get("id") or item.get("label")
        except (IndexError, AttributeError, KeyError, TypeError):
            ident = None
        head = f"{path[0][:-1]} {ident}" if ident else f"{path[0]}[{path[1]}]"
        rest = ".".join(str(p) for p in path[2:])
        return f"{head}.{rest}" if rest else head
    return ".".join(str(p) for p in path)


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


class _Checker:
    """Cross-field checks the schema cannot express, for one instrument file."""

    def __init__(self, data: dict, lines: dict, name: str, vocab: Vocabulary, source: str | None):
        self.data, self.lines, self.name, self.vocab = data, lines, name, vocab
        self.source = normalize(source) if source is not None else None
        self.errors: list[CatalogError] = []

    def fail(self, path: tuple, message: str) -> None:
        self.errors.append(CatalogError(self.name, _line(self.lines, path), _entry(self.data, path), message))

    def run(self) -> list[CatalogError]:
        d = self.data
        if d.get("review") == "unreviewed":
            self.fail(
                ("review",),
                "an unreviewed draft: read every entry against the source (roles, modality, kind, deadline, "
                "conditions), write the titles, summaries and dates, then delete the line 'review: unreviewed'",
            )
        if d["jurisdiction"] not in self.vocab.jurisdictions:
            self.fail(("jurisdiction",), f"unknown jurisdiction '{d['jurisdiction']}'")
        dates = {}
        for key in ("promulgated", "published", "effective", "expires"):
            dates[key] = self._parse_date((key,), d.get(key))
        if dates["effective"] and dates["expires"] and dates["expires"] < dates["effective"]:
            self.fail(("expires",), "expires before the instrument takes effect")
        if d["status"] == "expired" and not dates["expires"]:
            self.fail(("status",), "an expired instrument needs its 'expires' date")
        phases = set(self.vocab.phases)
        for i, phase in enumerate(d.get("phases", [])):
            if phase["key"] in phases:
                self.fail(("phases", i, "key"), f"phase '{phase['key']}' is already defined")
            phases.add(phase["key"])
            start = self._parse_date(("phases", i, "start"), phase.get("start"))
            end = self._parse_date(("phases", i, "end"), phase.get("end"))
            if start and end and end < start:
                self.fail(("phases", i), "phase ends before it starts")
        provisions = self._check_provisions()
        seen_ids: set[str] = set()
        for i, ob in enumerate(d["obligations"]):
            self._check_obligation(i, ob, provisions, phases, seen_ids)
        for i, entry in enumerate(d.get("left_out", [])):
            if self.source is not None and normalize(entry["text"]) not in self.source:
                self.fail(("left_out", i, "text"), "the sentence left out is not verbatim in the source")
            if (entry["reason"] in ("covered_by", "condition")) != ("obligation" in entry):
                self.fail(("left_out", i, "obligation"), "name the obligation of covered_by or condition, only then")
            elif entry.get("obligation") and entry["obligation"] not in seen_ids:
                self.fail(("left_out", i, "obligation"), f"no obligation '{entry['obligation']}'")
        return self.errors

    def _parse_date(self, path: tuple, value: str | None) -> dt.date | None:
        try:
            return _date(value)
        except ValueError:
            self.fail(path, f"'{value}' is not a calendar date")
            return None

    def _check_provisions(self) -> dict[str, str]:
        labels: dict[str, str] = {}
        summary = self.data["source"]["kind"] == "summary"
        for i, prov in enumerate(self.data["provisions"]):
            label, text = prov["label"], normalize(prov["text"])
            if label in labels:
                self.fail(("provisions", i, "label"), f"label '{label}' is used twice")
            labels[label] = text
            if self.source is None:
                continue
            if text not in self.source:
                self.fail(("provisions", i, "text"), "text is not a verbatim part of the source file")
            if not summary:
                # A nested label such as "二、（三）" names its parent too: each part must be
                # written in the source, and the item's own number in its text.
                parts = [p for p in re.split(r"(?<=[、）)])\s*", label) if p]
                if any(normalize(p) not in self.source for p in parts):
                    self.fail(("provisions", i, "label"), f"label '{label}' does not appear in the source")
                elif normalize(parts[-1]) not in text:
                    self.fail(
                        ("provisions", i, "label"), f"the provision text does not contain its label '{parts[-1]}'"
                    )
        return labels

    def _check_obligation(self, i: int, ob: dict, provisions: dict, phases: set, seen: set) -> None:
        base = ("obligations", i)
        if ob["id"] in seen:
            self.fail((*base, "id"), f"id '{ob['id']}' is used twice")
        seen.add(ob["id"])
        if ob["ref"] not in provisions:
            self.fail((*base, "ref"), f"no provision labelled '{ob['ref']}'")
        elif normalize(ob["quote_zh"]) not in provisions[ob["ref"]]:
            self.fail((*base, "quote_zh"), f"quote is not verbatim in provision {ob['ref']}")
        elif "lead_zh" in ob:
            text, lead = provisions[ob["ref"]], normalize(ob["lead_zh"])
            if lead not in text:
                self.fail((*base, "lead_zh"), f"lead is not verbatim in provision {ob['ref']}")
            elif text.find(lead) > text.rfind(normalize(ob["quote_zh"])):
                self.fail((*base, "lead_zh"), "the lead comes after the quote in the provision")
        if ("open_question" in ob) != ("open_question_zh" in ob):
            self.fail((*base, "open_question"), "an open question is written in both languages")
        for key in ("see_also",):
            for j, label in enumerate(ob.get(key, [])):
                if label not in provisions:
                    self.fail((*base, key, j), f"no provision labelled '{label}'")
        if ob.get("penalty_ref") and ob["penalty_ref"] not in provisions:
            self.fail((*base, "penalty_ref"), f"no provision labelled '{ob['penalty_ref']}'")
        for j, role in enumerate(ob["roles"]):
            if role not in self.vocab.roles:
                self.fail((*base, "roles", j), f"unknown role '{role}'")
        if len(set(ob["roles"])) != len(ob["roles"]):
            self.fail((*base, "roles"), "a role is listed twice")
        if ob["phase"] not in phases:
            self.fail((*base, "phase"), f"unknown phase '{ob['phase']}'")
        if (ob["kind"] == "prohibition") != (ob["modality"] == "must_not"):
            self.fail((*base, "kind"), "a prohibition has modality must_not, and must_not is a prohibition")
        for j, role in enumerate(ob.get("awaited_by", [])):
            if role not in self.vocab.roles:
                self.fail((*base, "awaited_by", j), f"unknown role '{role}'")
        if ob.get("awaited_by") and ob["kind"] != "authority_duty":
            self.fail((*base, "awaited_by"), "only an authority's act is awaited by other roles")
        if ob["kind"] == "duty" and ob["modality"] in ("encouraged", "may"):
            message = f"'{ob['modality']}' is not a duty: an incentive or a permission is kind incentive"
            self.fail((*base, "kind"), message)
        if "conditions" in ob:
            self._check_condition((*base, "conditions"), ob["conditions"])
        self._check_deadline((*base, "deadline"), ob["deadline"])

    def _check_condition(self, path: tuple, cond: dict) -> None:
        for op in ("all", "any"):
            if op in cond:
                for j, sub in enumerate(cond[op]):
                    self._check_condition((*path, op, j), sub)
                return
        if "not" in cond:
            self._check_condition((*path, "not"), cond["not"])
            return
        if "event" in cond:
            if cond["event"] not in self.vocab.events:
                self.fail((*path, "event"), f"unknown event '{cond['event']}'")
            for op in ("before", "on_or_after"):
                if op in cond:
                    self._parse_date((*path, op), cond[op])
            return
        key = cond["fact"]
        if key not in self.vocab.facts:
            self.fail((*path, "fact"), f"unknown fact '{key}'")
            return
        ftype = self.vocab.facts[key]["type"]
        ((op, value),) = ((k, v) for k, v in cond.items() if k != "fact")
        allowed_ops = {
            "set": {"includes", "includes_any"},
            "enum": {"is", "in"},
            "boolean": {"is"},
            "number": {"gte", "lt"},
            "jurisdiction": {"within"},
            "jurisdiction_set": {"within"},
        }[ftype]
        if op not in allowed_ops:
            self.fail((*path, op), f"fact '{key}' is a {ftype}; use {' or '.join(sorted(allowed_ops))}")
            return
        if ftype == "boolean" and not isinstance(value, bool):
            self.fail((*path, op), f"fact '{key}' is true or false")
        if ftype in ("jurisdiction", "jurisdiction_set") and value not in self.vocab.jurisdictions:
            self.fail((*path, op), f"unknown jurisdiction '{value}'")
        values = self.vocab.fact_values(key)
        if values is not None:
            for v in value if isinstance(value, list) else [value]:
                if v not in values:
                    self.fail((*path, op), f"'{v}' is not a value of fact '{key}'")

    def _check_deadline(self, path: tuple, rule: dict) -> None:
        kind = rule["kind"]
        if kind == "fixed":
            self._parse_date((*path, "date"), rule["date"])
        elif kind == "window":
            start = self._parse_date((*path, "start"), rule["start"])
            end = self._parse_date((*path, "end"), rule["end"])
            if start and end and end < start:
                self.fail(path, "window ends before it starts")
        elif kind in ("after_event", "before_event") or (kind == "qualitative" and "event" in rule):
            if rule["event"] not in self.vocab.events:
                self.fail((*path, "event"), f"unknown event '{rule['event']}'")
        elif kind == "ongoing" and "keep" in rule:
            if rule["keep"]["event"] not in self.vocab.events:
                self.fail((*path, "keep", "event"), f"unknown event '{rule['keep']['event']}'")
        elif kind == "recurring":
            start = self._parse_date((*path, "dtstart"), rule.get("dtstart")) or dt.date(2000, 1, 1)
            try:
                rrulestr(rule["rrule"], dtstart=dt.datetime.combine(start, dt.time()))
            except (ValueError, TypeError) as exc:
                self.fail((*path, "rrule"), f"not an RFC 5545 rule: {exc}")
            self._parse_date((*path, "until"), rule.get("until"))
            if "event" in rule:
                if rule["anchor"] == "schedule":
                    self.fail((*path, "event"), "a series on the calendar starts on its own dates, not at an event")
                elif rule["event"] not in self.vocab.events:
                    self.fail((*path, "event"), f"unknown event '{rule['event']}'")


def instrument_files(root: Path) -> list[Path]:
    return sorted((root / "instruments").glob("*.yaml"))


def catalog_hash(root: Path = CATALOG_DIR) -> str:
    """Hash of every file that makes up the catalogue, cheap enough to decide before parsing
    anything whether a load would change the database."""
    digest = hashlib.sha256()
    paths = [root / "schema.json"] + [
        p for d in ("vocabulary", "instruments", "sources") for p in sorted((root / d).glob("*"))
    ]
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_catalog(root: Path = CATALOG_DIR, only: list[Path] | None = None) -> Catalog:
    """Read and check the whole catalogue under ``root``. Raises CatalogInvalid listing every
    problem found; returns the parsed catalogue only when there is none."""
    errors: list[CatalogError] = []
    vocab = load_vocabulary(root / "vocabulary", errors)
    instruments: list[dict] = []
    sources: dict[str, str] = {}
    codes: dict[str, str] = {}  # instrument code -> the file that defines it
    for path in only or instrument_files(root):
        name = _relname(path)
        try:
            data, lines = read_yaml(path)
        except yaml.YAMLError as exc:
            errors.append(CatalogError(name, _mark_line(exc), "", f"not valid YAML: {exc}"))
            continue
        problems = _schema_errors(data, lines, name)
        if problems:
            errors.extend(problems)
            continue
        if path.stem != data["code"]:
            errors.append(
                CatalogError(name, _line(lines, ("code",)), "code", f"file must be named {data['code']}.yaml")
            )
        if data["code"] in codes:
            errors.append(
                CatalogError(
                    name, _line(lines, ("code",)), "code", f"'{data['code']}' is also used by {codes[data['code']]}"
                )
            )
        codes[data["code"]] = name
        source_path = root / "sources" / data["source"]["file"]
        source = None
        if source_path.exists():
            source = source_path.read_text(encoding="utf-8")
            sources[data["code"]] = source
        else:
            errors.append(
                CatalogError(
                    name, _line(lines, ("source", "file")), "source.file", f"no source file {source_path.name}"
                )
            )
        errors.extend(_Checker(data, lines, name, vocab, source).run())
        instruments.append(data)
    if only is None and not errors:  # a partial or failed read does not know every obligation
        errors += _act_problems(vocab, instruments)
    if errors:
        raise CatalogInvalid(errors)
    return Catalog(vocab, instruments, sources, catalog_hash(root))


def _act_problems(vocab: Vocabulary, instruments: list[dict]) -> list[CatalogError]:
    """Every obligation an act names exists, belongs to one act only, and an act links two or more."""
    known = {f"{i['code']}:{ob['id']}" for i in instruments for ob in i["obligations"]}
    problems: list[CatalogError] = []
    seen: dict[str, str] = {}
    for key, act in vocab.acts.items():
        refs = act.get("obligations") or []
        if len(refs) < 2:
            problems.append(CatalogError("vocabulary", None, f"acts {key}", "an act links at least two obligations"))
        for ref in refs:
            if ref not in known:
                problems.append(CatalogError("vocabulary", None, f"acts {key}", f"no obligation {ref}"))
            elif ref in seen:
                problems.append(CatalogError("vocabulary", None, f"acts {key}", f"{ref} is also in act {seen[ref]}"))
            seen[ref] = key
    return problems


def iter_obligations(catalog: Catalog) -> Iterator[tuple[dict, dict]]:
    for instrument in catalog.instruments:
        for ob in instrument["obligations"]:
            yield instrument, ob


def main(argv: list[str]) -> int:
    only = [Path(a).resolve() for a in argv] or None
    try:
        catalog = read_catalog(CATALOG_DIR, only)
    except CatalogInvalid as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        print(f"{len(exc.errors)} problem(s); nothing loaded.", file=sys.stderr)
        return 1
    print(
        f"ok: {len(catalog.instruments)} instruments, {catalog.provision_count} provisions, "
        f"{catalog.obligation_count} obligations"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
