"""Reads of the catalogue, with the prefetching the API and the export need."""

import datetime as dt

from django.db import connection
from django.db.models import Prefetch, QuerySet

from . import places
from .applicability import FactSpec, Rule, Rulebook
from .deadlines import WorkCalendar, YearSchedule
from .explain import Labels
from .models import (
    CatalogVersion,
    EventType,
    Fact,
    HolidaySchedule,
    Instrument,
    Jurisdiction,
    Obligation,
    Provision,
    Role,
)


def jurisdiction_with_ancestors(code: str) -> list[str]:
    """The code and every jurisdiction above it: a Lingang company is under Shanghai and
    national rules too."""
    parents = dict(Jurisdiction.objects.values_list("code", "parent_id"))
    return places.ancestors(code, parents) if code in parents else []


def obligation_list() -> QuerySet[Obligation]:
    return (
        Obligation.objects.filter(retired=False)
        .select_related("instrument", "provision", "penalty_provision", "phase")
        .prefetch_related("roles", Prefetch("see_also", queryset=Provision.objects.only("id", "label")))
    )


def instrument_list() -> QuerySet[Instrument]:
    return Instrument.objects.filter(retired=False).defer("source_text")


def instrument_detail() -> QuerySet[Instrument]:
    return instrument_list().prefetch_related(
        "phases",
        Prefetch("obligations", queryset=obligation_list(), to_attr="active_obligations"),
    )


def catalog_version_latest() -> CatalogVersion | None:
    return CatalogVersion.objects.order_by("-loaded_at", "-id").first()


def work_calendar() -> WorkCalendar:
    """The working-day calendar: bundled data, overridden by schedules operators recorded."""
    return current()[1]


def rulebook() -> Rulebook:
    """The catalogue as the applicability engine reads it."""
    return current()[0]


_rulebook_cache: dict[str, Rulebook] = {}
_calendar_cache: dict[str, WorkCalendar] = {}


def current() -> tuple[Rulebook, WorkCalendar]:
    """The rulebook and the working-day calendar, each built once per process and version of
    what it is made of: rebuilding costs tens of milliseconds, checking both versions one query."""
    # Every API request that evaluates asks this, so it is one plain query for the two keys (the
    # version row also holds the change lists of the last load, which are large): the catalogue's
    # latest version, and the recorded holiday schedules' count and latest change.
    versions, schedules = CatalogVersion._meta.db_table, HolidaySchedule._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT id || ':' || content_hash FROM {versions} ORDER BY loaded_at DESC, id DESC LIMIT 1), "  # noqa: S608 (constants)
            f"(SELECT count(*) || ':' || coalesce(CAST(max(recorded_at) AS TEXT), '') FROM {schedules})"
        )
        catalog_key, calendar_key = cursor.fetchone()
    catalog_key = catalog_key or "empty"
    if catalog_key not in _rulebook_cache:
        _rulebook_cache.clear()
        _rulebook_cache[catalog_key] = _build_rulebook(catalog_key)
    if calendar_key not in _calendar_cache:
        _calendar_cache.clear()
        _calendar_cache[calendar_key] = _build_calendar()
    return _rulebook_cache[catalog_key], _calendar_cache[calendar_key]


def forget() -> None:
    """Drop this process's catalogue caches: after a rolled-back load (a dry run), whose rows,
    and ids, never existed for anyone else."""
    for cache in (_rulebook_cache, _calendar_cache, _roles_cache, _labels_cache):
        cache.clear()


def _build_calendar() -> WorkCalendar:
    schedules = {}
    for row in HolidaySchedule.objects.all():
        schedules[row.year] = YearSchedule(
            year=row.year,
            holidays={dt.date.fromisoformat(h["date"]): h.get("name", "") for h in row.holidays},
            makeup_workdays=frozenset(dt.date.fromisoformat(d) for d in row.makeup_workdays),
        )
    return WorkCalendar(schedules)


# Display fields kept with each rule so that answers need no further queries.
INFO_FIELDS = (
    "title_zh",
    "title_en",
    "provision",
    "kind",
    "modality",
    "phase",
    "quote_zh",
    "summary_en",
    "summary_zh",
    "penalty_provision",
    "penalty_text",
)


def _build_rulebook(version: str) -> Rulebook:
    roles: dict[int, set[str]] = {}
    for obligation_id, role_key in Obligation.roles.through.objects.filter(obligation__retired=False).values_list(
        "obligation_id", "role__key"
    ):
        roles.setdefault(obligation_id, set()).add(role_key)
    rows = (
        Obligation.objects.filter(retired=False)
        .order_by("instrument__code", "order")
        .values_list(
            "id",
            "key",
            "conditions",
            "awaited_by",
            "deadline",
            "instrument__code",
            "instrument__status",
            "instrument__effective",
            "instrument__expires",
            "instrument__jurisdiction_id",
            "instrument__place_basis",
            "open_question",
            "open_question_zh",
            "instrument__title_zh",
            "instrument__title_en",
            "provision__label",
            "kind",
            "modality",
            "phase__key",
            "quote_zh",
            "summary_en",
            "summary_zh",
            "penalty_provision__label",
            "penalty_provision__text",
        )
    )
    rules = [
        Rule(
            ref=f"{code}:{key}",
            id=pk,
            instrument=code,
            status=status,
            effective=effective,
            expires=expires,
            jurisdiction=jurisdiction,
            places=tuple(places),
            roles=frozenset(roles.get(pk, ())),
            conditions=conditions,
            awaited_by=frozenset(awaited_by or ()),
            deadline=deadline,
            question=(question, question_zh) if question else None,
            info=dict(zip(INFO_FIELDS, info, strict=True)),
        )
        for (
            pk,
            key,
            conditions,
            awaited_by,
            deadline,
            code,
            status,
            effective,
            expires,
            jurisdiction,
            places,
            question,
            question_zh,
            *info,
        ) in rows
    ]
    facts = {
        f.key: FactSpec(f.key, f.type, frozenset(v["key"] for v in f.values) if f.values else None, f.order)
        for f in Fact.objects.all()
    }
    return Rulebook(
        rules=rules,
        facts=facts,
        parents=dict(Jurisdiction.objects.values_list("code", "parent_id")),
        events=frozenset(EventType.objects.values_list("key", flat=True)),
        version=version,
    )


_roles_cache: dict[str, dict[int, list[str]]] = {}


def obligation_roles() -> dict[int, list[str]]:
    """Every obligation's role keys, sorted (retired obligations too: old checklist items cite
    them); read once per catalogue version, so that lists need no query for them."""
    version = rulebook().version
    if version not in _roles_cache:
        roles: dict[int, list[str]] = {}
        for obligation_id, key in Obligation.roles.through.objects.values_list("obligation_id", "role__key"):
            roles.setdefault(obligation_id, []).append(key)
        _roles_cache.clear()
        _roles_cache[version] = {pk: sorted(keys) for pk, keys in roles.items()}
    return _roles_cache[version]


_labels_cache: dict[str, Labels] = {}


def labels(book: Rulebook | None = None) -> Labels:
    """The vocabulary's names in both languages, for putting reasons into words; built once
    per catalogue version, like the rulebook (``book``: the one the caller already holds)."""
    version = (book or rulebook()).version
    if version not in _labels_cache:
        _labels_cache.clear()
        _labels_cache[version] = _build_labels()
    return _labels_cache[version]


def _build_labels() -> Labels:
    names: dict[tuple[str, str], tuple[str, str]] = {}
    for kind, model, key in (("role", Role, "key"), ("place", Jurisdiction, "code"), ("event", EventType, "key")):
        for code, zh, en in model._default_manager.values_list(key, "name_zh", "name_en"):
            names[(kind, code)] = (zh, en)
    for fact in Fact.objects.all():
        names[("fact", fact.key)] = (fact.name_zh or fact.key, fact.name_en or fact.key)
        for value in fact.values or []:
            names[("value", f"{fact.key}:{value['key']}")] = (value["name_zh"], value["name_en"])
    return Labels(names)
