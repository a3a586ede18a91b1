"""Reads of the catalogue, with the prefetching the API and the export need."""

import datetime as dt

from django.db.models import Prefetch, QuerySet

from .deadlines import WorkCalendar, YearSchedule
from .models import CatalogVersion, HolidaySchedule, Instrument, Jurisdiction, Obligation, Provision


def jurisdiction_with_ancestors(code: str) -> list[str]:
    """The code and every jurisdiction above it: a Lingang company is under Shanghai and
    national rules too."""
    parents = dict(Jurisdiction.objects.values_list("code", "parent_id"))
    chain = []
    while code in parents and code not in chain:
        chain.append(code)
        code = parents[code]
    return chain


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
    schedules = {}
    for row in HolidaySchedule.objects.all():
        schedules[row.year] = YearSchedule(
            year=row.year,
            holidays={dt.date.fromisoformat(h["date"]): h.get("name", "") for h in row.holidays},
            makeup_workdays=frozenset(dt.date.fromisoformat(d) for d in row.makeup_workdays),
        )
    return WorkCalendar(schedules)
