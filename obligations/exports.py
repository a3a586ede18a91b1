"""The checklist as a file for auditors (CSV, an Excel workbook or a PDF, the same rows), in the
reader's language: headers and values in words (statuses, phases, reasons, how each date was
counted), each item named as everywhere else and linked to its page. Codes and database ids
stay in the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Font

from regulations import selectors

from .errors import ServiceError
from .models import ChecklistItem
from .services.checklist import reasons_in
from .wording import due_basis_text, in_language, period_text, superseded_text

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"

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
            period_text(item, lang=lang, labels=labels),
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
    """The same rows as ``checklist_csv`` in one sheet."""
    header, *rows = _rows(items, link, lang, zone)
    return workbook([Table(str(_("Checklist")), header, rows)])


# What the PDF shows of the CSV's columns: a page is narrower than a sheet. The file's other
# columns (the quote, the reasons, the links) are in the CSV and the workbook.
PDF_COLUMNS = [0, 5, 10, 11, 12, 13, 15, 16, 17]


@in_language
def checklist_pdf(items: Iterable[ChecklistItem], link, *, lang: str, zone: dt.tzinfo, organization) -> bytes:
    """The checklist as a printable table, under the organization's name and the time it was made."""
    header, *rows = _rows(items, link, lang, zone)
    columns, rows = [header[i] for i in PDF_COLUMNS], [[r[i] for i in PDF_COLUMNS] for r in rows]
    table = Table(str(_("Checklist")), columns, rows, widths=(30, 7, 7, 8, 16, 7, 8, 12, 5))
    heading = [
        (_("Organization"), organization.name),
        (_("Generated at"), f"{timezone.now().astimezone(zone):%Y-%m-%d %H:%M}"),
        (_("Items"), str(len(rows))),
    ]
    return pdf_document(str(_("Checklist")), heading, [table], lang=lang)


@dataclass
class Table:
    """One sheet of a workbook, one section of a PDF: a title, column names and rows."""

    title: str
    columns: list[str]
    rows: list[list]
    widths: tuple[int, ...] = ()  # the PDF's column widths, in percent; equal when not given


def workbook(tables: list[Table]) -> bytes:
    """An Excel workbook, one sheet per table, each header row bold and frozen. Written in
    openpyxl's write-only mode: each row goes out as it is made (a sheet of 2,000 rows took
    seconds when cells were looked up again after each row was added)."""
    book = Workbook(write_only=True)
    for table in tables:
        # Sheet names are at most 31 characters and may not contain []:*?/\
        sheet = book.create_sheet(re.sub(r"[\[\]:*?/\\]", " ", table.title)[:31])
        sheet.freeze_panes = "A2"
        sheet.append([_cell(sheet, value, bold=True) for value in table.columns])
        for row in table.rows:
            sheet.append([_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(sheet, value, bold: bool = False) -> WriteOnlyCell:
    if isinstance(value, str):
        # A workbook is XML, which cannot hold most control characters: each shows as U+FFFD.
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # stored as text: openpyxl would store one starting with "=" as a formula
    if bold:
        cell.font = Font(bold=True)
    return cell


def pdf_document(title: str, heading: list, tables: list[Table], *, lang: str) -> bytes:
    """A PDF (A4 landscape, a CJK font from the system's packages) of a title, (label, value)
    heading lines and tables whose header rows repeat on every page."""
    try:
        # Imported here: it loads Pango through cffi, which a machine without it lacks, and
        # only the PDF downloads need it.
        from weasyprint import HTML
    except OSError:
        raise ServiceError(
            "file",
            gettext("PDF files cannot be made on this server (it lacks the Pango library); choose another file."),
        ) from None
    html = render_to_string(
        "exports/document.html",
        {"title": title, "heading": heading, "tables": tables, "html_lang": "zh-Hans" if lang == "zh" else "en"},
    )
    return HTML(string=html).write_pdf()
