"""The checklist as a file for auditors (CSV or an Excel workbook, the same rows), in the
reader's language: headers and values in words (statuses, phases, reasons, how each date was
counted), each item named as everywhere else and linked to its page. Codes and database ids
stay in the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from regulations import selectors

from .models import ChecklistItem
from .services.checklist import reasons_in
from .wording import due_basis_text, in_language, superseded_text

COLUMNS = [
    _("Item"),
    _("Instrument"),
    _("Provision"),
    _("Obligation"),
    _("Quoted text"),
    _("Period"),
    _("Phase"),
    _("Kind"),
    _("Applicability"),
    _("Why it applies"),
    _("Status"),
    _("Due date"),
    _("How the due date was set"),
    _("Assignee"),
    _("Completed by"),
    _("Completed at"),
    _("Reason it does not apply"),
    _("Evidence"),
    _("Why it was set aside"),
    _("Link"),
]


def spreadsheet_safe(text: str) -> str:
    """Text people typed, made inert for spreadsheet programs: a cell starting with = + - @
    or a control character would be run as a formula (OWASP "CSV injection")."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _period(item: ChecklistItem, lang: str, labels) -> str:
    """Which occurrence of the duty: the event it runs from, or the recurring period's date."""
    if item.event_id and item.event:
        name = labels.name("event", item.event.type_id, lang)
        return f"{name}（{item.event.date:%Y-%m-%d}）" if lang == "zh" else f"{name} ({item.event.date:%Y-%m-%d})"
    return item.occurrence if item.occurrence[:1].isdigit() else ""


def _rows(items: Iterable[ChecklistItem], link, lang: str, zone: dt.tzinfo) -> Iterator[list]:
    """The header, then one row per item; ``items`` with their obligations, events, people and
    ``evidence_count``; ``link(path)`` makes an absolute address of a page; times are given in
    ``zone`` (the organization's)."""
    labels = selectors.labels()
    yield [str(column) for column in COLUMNS]
    separator = "\n"
    for item in items:
        o = item.obligation
        phase = o.phase.name_zh if lang == "zh" else o.phase.name_en
        yield [
            o.title_in(lang),
            o.instrument.title_zh if lang == "zh" else o.instrument.title_en,
            o.provision.label_in(lang),
            o.summary_in(lang),
            o.quote_zh,
            _period(item, lang, labels),
            phase,
            o.get_kind_display(),
            item.get_applicability_display(),
            separator.join(r["text"] for r in reasons_in(item, lang, labels)),
            item.get_status_display(),
            item.due_date.isoformat() if item.due_date else "",
            due_basis_text(item.due_basis, lang, labels),
            spreadsheet_safe(item.assignee.username if item.assignee else ""),
            spreadsheet_safe(item.completed_by.username if item.completed_by else ""),
            f"{item.completed_at.astimezone(zone):%Y-%m-%d %H:%M}" if item.completed_at else "",
            spreadsheet_safe(item.justification),
            item.evidence_count,  # type: ignore[attr-defined]  # annotated by the caller
            superseded_text(item.superseded_reason, o, lang=lang, labels=labels),
            link(reverse("web-item", args=[item.organization_id, item.pk])),
        ]


@in_language
def checklist_csv(items: Iterable[ChecklistItem], link, *, lang: str, zone: dt.tzinfo) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(_rows(items, link, lang, zone))
    # A byte-order mark, so spreadsheet programs read the Chinese text as UTF-8.
    return "\ufeff" + out.getvalue()


@in_language
def checklist_xlsx(items: Iterable[ChecklistItem], link, *, lang: str, zone: dt.tzinfo) -> bytes:
    """The same rows as ``checklist_csv`` in one sheet, the header row frozen and bold."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = str(_("Checklist"))
    for row in _rows(items, link, lang, zone):
        # A workbook is XML, which cannot hold most control characters: each shows as U+FFFD.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v for v in row])
        # Every text is stored as text: openpyxl would store one starting with "=" as a formula.
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
