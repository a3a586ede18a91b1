"""Writes to the catalogue. The only writer is the loader, which applies the reviewed YAML
files in one transaction."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import models, transaction

from . import selectors, signals
from .applicability import changed_rules
from .catalog.validation import CATALOG_DIR, Catalog, catalog_hash, normalize, read_catalog
from .models import (
    Act,
    CatalogVersion,
    EventType,
    Fact,
    Instrument,
    Jurisdiction,
    Obligation,
    Phase,
    Provision,
    Role,
)

logger = logging.getLogger(__name__)


@dataclass
class LoadResult:
    version: CatalogVersion | None
    unchanged: bool
    changes: dict[str, Any] = field(default_factory=dict)
    reports: list = field(default_factory=list)  # from the receivers of catalog_changed


# The parts of a version's changes that list keys rather than count rows.
KEY_LISTS = ("obligation_keys", "instrument_keys", "changed_fields")


@dataclass
class _Changes:
    counts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    obligations: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    instruments: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # For the changelog: the fields that changed, by instrument code and by obligation reference.
    fields: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: dict(c) for name, c in self.counts.items()}
        out["obligation_keys"] = {k: sorted(v) for k, v in self.obligations.items()}
        out["instrument_keys"] = {k: sorted(v) for k, v in self.instruments.items()}
        out["changed_fields"] = dict(sorted(self.fields.items()))
        return out


def _fact_values(vocab, fact: dict) -> list[dict]:
    """Allowed values as published: a fact whose values are the roles lists every role."""
    if fact.get("values_from") == "roles":
        return [{"key": k, "name_zh": r["name_zh"], "name_en": r["name_en"]} for k, r in vocab.roles.items()]
    return fact.get("values", [])


def catalog_load(*, root: Path = CATALOG_DIR, dry_run: bool = False, cause: dict | None = None) -> LoadResult:
    """Load the catalogue files under ``root`` into the database.

    1. Read and check every file (raises ``CatalogInvalid`` listing every problem; nothing is
       written then).
    2. If the content hash equals the latest recorded version, stop: unchanged files change
       nothing, not even a timestamp.
    3. Otherwise, in one transaction, create, update or retire rows so that the database matches
       the files, touching only rows whose values differ, and record a ``CatalogVersion`` with
       the counts and the keys of obligations added, changed and retired.
    With ``dry_run`` the transaction is rolled back and the changes are only reported.
    ``catalog_changed`` then tells what depends on the catalogue which obligations may have
    changed (ids, or None for all): the rulebooks before and after are compared, so a change
    to roles, an instrument's dates or places counts as well as one to the obligation's row.
    It is sent after the commit, so that what follows (every checklist that can change, one
    organization at a time) holds no lock on the catalogue; with ``dry_run`` it is sent inside
    the transaction, before the rollback, and the receivers' reports (``LoadResult.reports``)
    say what would change.
    """
    latest = CatalogVersion.objects.order_by("-loaded_at", "-id").first()
    if latest and latest.content_hash == catalog_hash(root):
        return LoadResult(version=latest, unchanged=True)
    catalog = read_catalog(root)
    before = selectors.rulebook()
    cause = cause or {"code": "catalogue"}
    with transaction.atomic():
        changes = _apply(catalog)
        version = CatalogVersion.objects.create(
            content_hash=catalog.content_hash,
            instruments=len(catalog.instruments),
            provisions=catalog.provision_count,
            obligations=catalog.obligation_count,
            changes=changes.as_dict(),
        )
        affected = changed_rules(before, selectors.rulebook())
        if dry_run:
            after = signals.reports(signals.catalog_changed, dry_run=True, cause=cause, obligations=affected)
            transaction.set_rollback(True)
    if dry_run:
        selectors.forget()  # the caches hold the rolled-back catalogue's rows
        return LoadResult(version=None, unchanged=False, changes=version.changes, reports=after)
    counts = {k: v for k, v in version.changes.items() if k not in KEY_LISTS}
    logger.info("catalogue loaded: version %s, changes %s", catalog.content_hash[:12], counts)
    after = signals.reports(signals.catalog_changed, dry_run=False, cause=cause, obligations=affected)
    return LoadResult(version=version, unchanged=False, changes=version.changes, reports=after)


@dataclass
class _Synced:
    by_key: dict[tuple, Any]
    created: list[Any]
    updated: list[Any]
    leftover: list[Any]  # rows in the database but not in the files: the caller retires them
    changed: dict[tuple, list[str]] = field(default_factory=dict)  # the fields of each updated row

    def __getitem__(self, key: tuple) -> Any:
        return self.by_key[key]

    def get(self, key: tuple) -> Any:
        return self.by_key.get(key)


def _sync(
    model: type[models.Model],
    existing: models.QuerySet,
    key_fields: tuple[str, ...],
    rows: list[dict[str, Any]],
    changes: _Changes,
) -> _Synced:
    """Make ``existing`` hold ``rows`` (matched on ``key_fields``), writing only differences."""
    name = model._meta.model_name
    assert name is not None  # set when a model class is created; None only on an unattached Options
    current = {tuple(getattr(o, f) for f in key_fields): o for o in existing}
    to_create, to_update, updated_fields = [], [], set()
    result: dict[tuple, Any] = {}
    changed_by_key: dict[tuple, list[str]] = {}
    for row in rows:
        key = tuple(row[f] for f in key_fields)
        obj = current.pop(key, None)
        if obj is None:
            obj = model(**row)
            to_create.append(obj)
        else:
            changed = [f for f, v in row.items() if getattr(obj, f) != v]
            if changed:
                for f in changed:
                    setattr(obj, f, row[f])
                to_update.append(obj)
                updated_fields.update(changed)
                changed_by_key[key] = changed
        result[key] = obj
    # Generic over the model: its _default_manager (`objects` for every catalogue model) is typed on Model.
    model._default_manager.bulk_create(to_create)
    if to_update:
        model._default_manager.bulk_update(to_update, sorted(updated_fields))
    changes.counts[name]["created"] += len(to_create)
    changes.counts[name]["updated"] += len(to_update)
    return _Synced(result, to_create, to_update, list(current.values()), changed_by_key)


def _apply(catalog: Catalog) -> _Changes:
    changes = _Changes()
    vocab = catalog.vocabulary

    # Parents before children, so every parent key exists when a child is written.
    def depth(code: str) -> int:
        return len(vocab.ancestors(code))

    jurisdiction_rows = [
        {"code": c, "parent_id": j.get("parent"), "name_zh": j["name_zh"], "name_en": j["name_en"]}
        for c, j in sorted(vocab.jurisdictions.items(), key=lambda kv: depth(kv[0]))
    ]
    for level in sorted({depth(r["code"]) for r in jurisdiction_rows}):
        _sync(
            Jurisdiction,
            Jurisdiction.objects.filter(code__in=[r["code"] for r in jurisdiction_rows if depth(r["code"]) == level]),
            ("code",),
            [r for r in jurisdiction_rows if depth(r["code"]) == level],
            changes,
        )
    roles = _sync(
        Role,
        Role.objects.all(),
        ("key",),
        [
            {"key": k, "name_zh": r["name_zh"], "name_en": r["name_en"], "description_en": r.get("description_en", "")}
            for k, r in vocab.roles.items()
        ],
        changes,
    )
    _sync(
        Fact,
        Fact.objects.all(),
        ("key",),
        [
            {
                "key": k,
                "type": f["type"],
                "values": _fact_values(vocab, f),
                "unit": f.get("unit", ""),
                "name_zh": f["name_zh"],
                "name_en": f["name_en"],
                "question_zh": f.get("question_zh", ""),
                "question_en": f.get("question_en", ""),
                "description_zh": f.get("description_zh", ""),
                "description_en": f.get("description_en", ""),
                "order": i,
            }
            for i, (k, f) in enumerate(vocab.facts.items())
        ],
        changes,
    )
    _sync(
        EventType,
        EventType.objects.all(),
        ("key",),
        [{"key": k, "name_zh": e["name_zh"], "name_en": e["name_en"]} for k, e in vocab.events.items()],
        changes,
    )
    shared_phases = _sync(
        Phase,
        Phase.objects.filter(instrument__isnull=True),
        ("key",),
        [
            {"key": k, "instrument_id": None, "name_zh": p["name_zh"], "name_en": p["name_en"]}
            for k, p in vocab.phases.items()
        ],
        changes,
    )
    instruments = _sync(
        Instrument,
        Instrument.objects.all(),
        ("code",),
        [_instrument_row(d, catalog.sources[d["code"]]) for d in catalog.instruments],
        changes,
    )
    changes.instruments["created"] += [i.code for i in instruments.created]
    changes.instruments["updated"] += [i.code for i in instruments.updated]
    changes.fields.update({code: fields for (code,), fields in instruments.changed.items()})
    for gone in instruments.leftover:
        if not gone.retired:
            gone.retired = True
            gone.save(update_fields=["retired"])
            changes.counts["instrument"]["retired"] += 1
            changes.instruments["retired"].append(gone.code)

    acts = _sync(
        Act,
        Act.objects.all(),
        ("key",),
        [
            {
                "key": key,
                "name_zh": act["name_zh"],
                "name_en": act["name_en"],
                "description_zh": act.get("description_zh", ""),
                "description_en": act.get("description_en", ""),
            }
            for key, act in vocab.acts.items()
        ],
        changes,
    )
    Act.objects.filter(pk__in=[a.pk for a in acts.leftover]).delete()  # its obligations keep no act
    act_of = {ref: acts[(key,)].pk for key, act in vocab.acts.items() for ref in act.get("obligations", [])}
    for data in catalog.instruments:
        instrument = instruments[(data["code"],)]
        _apply_instrument(instrument, data, roles, shared_phases, act_of, changes)
    return changes


def _instrument_row(d: dict, source_text: str) -> dict[str, Any]:
    src = d["source"]
    return {
        "code": d["code"],
        "title_zh": d["title_zh"],
        "title_en": d["title_en"],
        "short_title_en": d.get("short_title_en", ""),
        "short_title_zh": d.get("short_title_zh", ""),
        "issuer_zh": d["issuer_zh"],
        "issuer_en": d.get("issuer_en", ""),
        "document_number": d.get("document_number") or "",
        "jurisdiction_id": d["jurisdiction"],
        "place_basis": list(d["place_basis"]),
        "nature": d["nature"],
        "nature_zh": d.get("nature_zh", ""),
        "status": d["status"],
        "promulgated": _date(d.get("promulgated")),
        "published": _date(d.get("published")),
        "effective": _date(d.get("effective")),
        "expires": _date(d.get("expires")),
        "validity_note": d.get("validity_note", ""),
        "summary_en": d.get("summary_en", ""),
        "source_kind": src["kind"],
        "source_origin": src["origin"],
        "source_notes": src.get("notes", ""),
        "source_text": source_text,
        "retired": False,
    }


def joined_quote(ob: dict, provision_text: str) -> str:
    """The quote as readers see it: a list item with its chapeau (``lead_zh``) before it, joined
    by an ellipsis where the text between them is left out."""
    lead = ob.get("lead_zh")
    if not lead:
        return ob["quote_zh"]
    text, lead, quote = normalize(provision_text), normalize(lead), normalize(ob["quote_zh"])
    adjacent = f"{lead}{quote}" in text or f"{lead} {quote}" in text
    return f"{lead}{'' if adjacent else '……'}{ob['quote_zh']}"


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _apply_instrument(
    instrument: Instrument,
    data: dict,
    roles: _Synced,
    shared_phases: _Synced,
    act_of: dict[str, int],
    changes: _Changes,
) -> None:
    own_phases = _sync(
        Phase,
        Phase.objects.filter(instrument=instrument),
        ("key",),
        [
            {
                "key": p["key"],
                "instrument_id": instrument.pk,
                "name_zh": p["name_zh"],
                "name_en": p["name_en"],
                "start": _date(p.get("start")),
                "end": _date(p.get("end")),
                "note": p.get("note", ""),
            }
            for p in data.get("phases", [])
        ],
        changes,
    )
    provisions = _sync(
        Provision,
        Provision.objects.filter(instrument=instrument),
        ("label",),
        [
            {"instrument_id": instrument.pk, "label": p["label"], "text": p["text"], "order": i}
            for i, p in enumerate(data["provisions"])
        ],
        changes,
    )
    rows = []
    for i, ob in enumerate(data["obligations"]):
        phase = own_phases.get((ob["phase"],)) or shared_phases[(ob["phase"],)]
        rows.append(
            {
                "instrument_id": instrument.pk,
                "key": ob["id"],
                "provision_id": provisions[(ob["ref"],)].pk,
                "penalty_provision_id": provisions[(ob["penalty_ref"],)].pk if ob.get("penalty_ref") else None,
                "actor_zh": ob["actor_zh"],
                "modality": ob["modality"],
                "kind": ob["kind"],
                "phase_id": phase.pk,
                "quote_zh": joined_quote(ob, provisions[(ob["ref"],)].text),
                "summary_en": ob["summary_en"],
                "summary_zh": ob.get("summary_zh", ""),
                "conditions": ob.get("conditions"),
                "awaited_by": list(ob.get("awaited_by", [])),
                "deadline": ob["deadline"],
                "deadline_kind": ob["deadline"]["kind"],
                "interpretation": ob.get("interpretation", ""),
                "interpretation_zh": ob.get("interpretation_zh", ""),
                "external_facts": ob.get("external_facts", ""),
                "open_question": ob.get("open_question", ""),
                "open_question_zh": ob.get("open_question_zh", ""),
                "act_id": act_of.get(f"{instrument.code}:{ob['id']}"),
                "order": i,
                "retired": False,
            }
        )
    obligations = _sync(Obligation, Obligation.objects.filter(instrument=instrument), ("key",), rows, changes)
    changes.obligations["created"] += [f"{instrument.code}:{o.key}" for o in obligations.created]
    changes.obligations["updated"] += [f"{instrument.code}:{o.key}" for o in obligations.updated]
    changes.fields.update({f"{instrument.code}:{key}": fields for (key,), fields in obligations.changed.items()})
    for gone in obligations.leftover:
        if not gone.retired:
            gone.retired = True
            gone.save(update_fields=["retired"])
            changes.counts["obligation"]["retired"] += 1
            changes.obligations["retired"].append(f"{instrument.code}:{gone.key}")
    new_roles = _sync_m2m(
        Obligation.roles.through,
        "role_id",
        {obligations[(ob["id"],)].pk: {roles[(r,)].pk for r in ob["roles"]} for ob in data["obligations"]},
    )
    # An obligation whose addressees changed is amended, though its own row may not be.
    created = {o.pk for o in obligations.created}
    for obligation in obligations.by_key.values():
        ref = f"{instrument.code}:{obligation.key}"
        if obligation.pk in new_roles and obligation.pk not in created:
            if ref not in changes.obligations["updated"]:
                changes.obligations["updated"].append(ref)
                changes.counts["obligation"]["updated"] += 1
            changes.fields[ref] = [*changes.fields.get(ref, []), "roles"]
    _sync_m2m(
        Obligation.see_also.through,
        "provision_id",
        {
            obligations[(ob["id"],)].pk: {provisions[(label,)].pk for label in ob.get("see_also", [])}
            for ob in data["obligations"]
        },
    )
    # Provisions no obligation cites any more can go; cited ones stay for retired obligations.
    stale = [p.pk for p in provisions.leftover]
    if stale:
        Provision.objects.filter(pk__in=stale, obligations__isnull=True, penalized_obligations__isnull=True).delete()


def _sync_m2m(through: type[models.Model], target: str, wanted: dict[int, set[int]]) -> set[int]:
    """Make the links of each obligation in ``wanted`` exactly those; returns the obligations
    whose links changed."""
    have: dict[int, set[int]] = defaultdict(set)
    # An auto-created through model's only manager, `objects`, is its _default_manager.
    for ob_id, target_id in through._default_manager.filter(obligation_id__in=wanted).values_list(
        "obligation_id", target
    ):
        have[ob_id].add(target_id)
    remove = [(o, t) for o, ts in have.items() for t in ts - wanted.get(o, set())]
    add = [through(obligation_id=o, **{target: t}) for o, ts in wanted.items() for t in ts - have[o]]
    for ob_id, target_id in remove:
        through._default_manager.filter(obligation_id=ob_id, **{target: target_id}).delete()
    through._default_manager.bulk_create(add)
    return {o for o, _t in remove} | {o for o, ts in wanted.items() if ts - have[o]}
