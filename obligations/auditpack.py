"""The audit pack: what an auditor asks of one organization on one date, in one file (an Excel
workbook or a PDF), in Chinese or English.

- The statement of applicability: every obligation of the instruments that concern the
  organization on that date (in force, and its places within their reach), whether it applies,
  does not apply or needs review, and why in words; the other instruments with why not.
- The checklist as it stood at the end of that day: status, assignee, due date and how it was
  counted, why an item does not apply, and each item's history up to then.
- The evidence added by then, with its dates and SHA-256.

"As it stood" is read back from the items' history, which records every change of the fields
shown (from and to): a field changed after the day had, on the day, the value its first later
change started from. The profile is the version saved by then, the events those reported by
then, the catalogue the current one (named in the file).

The file carries a content hash: SHA-256 over what it states (language-independent: keys,
dates and texts people wrote), so a Chinese PDF and an English workbook of the same day and
data carry the same hash, and any change to what they state changes it."""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from regulations import selectors as catalog
from regulations.applicability import Evaluation, Outcome, RuledOut, evaluate
from regulations.explain import Labels, reason_text
from regulations.models import CatalogVersion, Instrument, Obligation

from .errors import ServiceError
from .exports import XLSX, Table, pdf_document, spreadsheet_safe, workbook
from .models import ChecklistItem, Evidence, ItemHistory, Organization
from .selectors import member_names, organization_event_dates, profile_current
from .services.checklist import organization_today
from .wording import due_basis_text, history_text, in_language, period_text

OUTCOMES = {
    Outcome.APPLIES: gettext_lazy("Applies"),
    Outcome.NEEDS_REVIEW: gettext_lazy("Needs review"),
    Outcome.DOES_NOT_APPLY: gettext_lazy("Does not apply"),
}
# The item fields the pack shows that the history records as {"from", "to"}.
TRACKED = ("status", "assignee", "justification", "due_date", "applicability")


@dataclass
class Pack:
    title: str
    heading: list[tuple[str, str]]  # (label, value): the organization, the date, the versions, the hash
    tables: list[Table]
    content_hash: str
    lang: str


def check_date(organization: Organization, as_of: dt.date) -> None:
    """A pack is for a day from the organization's creation to today (its own time zone)."""
    today = organization_today(organization)
    created = timezone.localtime(organization.created_at, zoneinfo.ZoneInfo(organization.timezone)).date()
    if as_of > today:
        raise ServiceError("as_of", _("Choose a date up to today (%(today)s).") % {"today": today.isoformat()})
    if as_of < created:
        raise ServiceError(
            "as_of",
            _("The organization was added on %(date)s; choose that date or later.") % {"date": created.isoformat()},
        )


def state_at(item: ChecklistItem, entries: list[ItemHistory], cutoff: dt.datetime) -> dict:
    """The tracked fields of ``item`` as they were just before ``cutoff``, from its history
    ``entries`` (oldest first): each field changed later goes back to where its first later
    change started. The completion is the last change to done before the cutoff."""
    state: dict[str, Any] = {
        "status": item.status,
        "assignee": item.assignee_id,
        "justification": item.justification,
        "due_date": item.due_date.isoformat() if item.due_date else None,
        "applicability": item.applicability,
    }
    for entry in reversed(entries):
        if entry.at < cutoff:
            break
        for field, change in entry.changes.items():
            if field in state:
                state[field] = change.get("from")
    completed = [e for e in entries if e.at < cutoff and e.changes.get("status", {}).get("to") == "done"]
    done = state["status"] == ChecklistItem.Status.DONE and completed
    state["completed_by"] = completed[-1].actor_id if done else None
    state["completed_at"] = completed[-1].at if done else None
    return state


@in_language
def build(organization: Organization, *, as_of: dt.date, lang: str) -> Pack:
    check_date(organization, as_of)
    zone = zoneinfo.ZoneInfo(organization.timezone)
    cutoff = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min, tzinfo=zone)  # the day's end
    book, calendar = catalog.current()
    labels = catalog.labels(book)
    # What the organization had answered and reported by the end of the day.
    profile = profile_current(organization, before=cutoff)
    events = organization_event_dates(organization, reported_before=cutoff)
    result = evaluate(book, profile.answers, events, as_of=as_of, calendar=calendar)

    instruments = {i.code: i for i in Instrument.objects.all()}
    in_scope = [e for e in result.decided if not e.preview]
    obligations = {
        o.pk: o for o in Obligation.objects.filter(pk__in=[e.rule.id for e in in_scope]).select_related("provision")
    }
    items = list(
        ChecklistItem.objects.filter(organization=organization, created_at__lt=cutoff)
        .exclude(superseded_at__lt=cutoff)
        .select_related("obligation__instrument", "obligation__provision", "event")
        .order_by("obligation__instrument__code", "obligation__order", "occurrence", "id")
    )
    history: dict[int, list[ItemHistory]] = defaultdict(list)
    for entry in (
        ItemHistory.objects.filter(item__in=[i.pk for i in items]).select_related("actor").order_by("at", "id")
    ):
        history[entry.item_id].append(entry)
    evidence: dict[int, list[Evidence]] = defaultdict(list)
    for proof in (
        Evidence.objects.filter(item__in=[i.pk for i in items], uploaded_at__lt=cutoff)
        .select_related("uploaded_by")
        .order_by("uploaded_at", "id")
    ):
        evidence[proof.item_id].append(proof)
    people = member_names(organization)
    states = {item.pk: state_at(item, history[item.pk], cutoff) for item in items}

    content: dict = {
        "organization": organization.slug,
        "as_of": as_of.isoformat(),
        "catalogue": book.version,
        "profile": profile.number,
    }
    statement, ruled_out = _statement(result.parts, obligations, instruments, states, items, labels, lang, content)
    checklist, proofs = _checklist(items, states, history, evidence, people, labels, lang, zone, cutoff, content)
    digest = hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()

    counts = {outcome: sum(1 for e in in_scope if e.outcome is outcome) for outcome in Outcome}
    version = CatalogVersion.objects.order_by("-loaded_at", "-id").first()
    heading = [
        (_("Organization"), organization.name),
        (_("As of"), as_of.isoformat()),
        (_("Generated at"), f"{timezone.now().astimezone(zone):%Y-%m-%d %H:%M}"),
        (
            _("Catalogue version"),
            _("loaded %(date)s, content %(hash)s")
            % {"date": f"{version.loaded_at.astimezone(zone):%Y-%m-%d %H:%M}", "hash": version.content_hash[:12]}
            if version
            else _("none loaded"),
        ),
        (
            _("Profile"),
            _("version %(number)s of %(date)s")
            % {"number": profile.number, "date": f"{profile.created_at.astimezone(zone):%Y-%m-%d}"}
            if profile.pk
            else _("not answered yet"),
        ),
        (
            _("Statement of applicability"),
            _(
                "%(instruments)s instruments concern the organization: %(applies)s obligations apply, "
                "%(review)s need review, %(not)s do not apply; %(out)s other instruments do not concern it."
            )
            % {
                "instruments": len({e.rule.instrument for e in in_scope}),
                "applies": counts[Outcome.APPLIES],
                "review": counts[Outcome.NEEDS_REVIEW],
                "not": counts[Outcome.DOES_NOT_APPLY],
                "out": len(ruled_out.rows),
            },
        ),
        (
            _("Checklist"),
            _("%(items)s items, %(evidence)s pieces of evidence") % {"items": len(items), "evidence": len(proofs.rows)},
        ),
        (_("Content hash (SHA-256)"), digest),
    ]
    tables = [statement, ruled_out, checklist, proofs]
    return Pack(title=str(_("Audit pack")), heading=heading, tables=tables, content_hash=digest, lang=lang)


def pack_xlsx(pack: Pack) -> bytes:
    """The pack as a workbook: its heading as the first sheet, then one sheet per table."""
    return workbook([Table(pack.title, ["", ""], [[str(k), v] for k, v in pack.heading]), *pack.tables])


def pack_pdf(pack: Pack) -> bytes:
    return pdf_document(pack.title, pack.heading, pack.tables, lang=pack.lang)


def download(organization: Organization, *, as_of: dt.date, lang: str) -> HttpResponse:
    """The pack as a workbook to download at once, for the API and the page alike (the PDF is
    made in the background: services.downloads)."""
    response = HttpResponse(pack_xlsx(build(organization, as_of=as_of, lang=lang)), content_type=XLSX)
    name = f"audit-pack-{organization.slug}-{as_of.isoformat()}-{lang}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _words(evaluation: Evaluation | RuledOut, rule_conditions, lang: str, labels: Labels) -> str:
    lines = [
        reason_text({"code": r.code, "params": r.params}, lang, labels, rule_conditions) for r in evaluation.reasons
    ]
    missing = getattr(evaluation, "missing", [])
    if missing:
        names = ("、" if lang == "zh" else ", ").join(labels.name(m.kind, m.key, lang) for m in missing)
        lines.append(_("Waiting for answers: %(names)s") % {"names": names})
    return "\n".join(lines)


def _statement(parts, obligations, instruments, states, items, labels, lang, content) -> tuple[Table, Table]:
    statuses: dict[int, list[str]] = defaultdict(list)
    for item in items:
        statuses[item.obligation_id].append(str(ChecklistItem.Status(states[item.pk]["status"]).label))
    rows, out, content["statement"], content["out_of_scope"] = [], [], [], []
    for part in parts:
        if part.preview:
            continue
        if isinstance(part, RuledOut):
            instrument = instruments[part.rules[0].instrument]
            out.append([instrument.title_zh if lang == "zh" else instrument.title_en, _words(part, None, lang, labels)])
            content["out_of_scope"].append([instrument.code, [[r.code, r.params] for r in part.reasons]])
            continue
        rule, obligation = part.rule, obligations[part.rule.id]
        instrument = instruments[rule.instrument]
        rows.append(
            [
                instrument.title_zh if lang == "zh" else instrument.title_en,
                obligation.provision.label_in(lang),
                obligation.summary_in(lang),
                str(OUTCOMES[part.outcome]),
                _words(part, rule.conditions, lang, labels),
                ("、" if lang == "zh" else ", ").join(statuses.get(rule.id, [])),
            ]
        )
        content["statement"].append(
            [rule.ref, part.outcome.value, [[r.code, r.params] for r in part.reasons], [m.key for m in part.missing]]
        )
    columns = [_("Instrument"), _("Provision"), _("Obligation"), _("Applicability"), _("Why"), _("Checklist status")]
    return (
        Table(str(_("Statement of applicability")), [str(c) for c in columns], rows, widths=(14, 7, 30, 8, 29, 12)),
        Table(
            str(_("Instruments that do not concern the organization")), [str(_("Instrument")), str(_("Why not"))], out
        ),
    )


def _checklist(items, states, history, evidence, people, labels, lang, zone, cutoff, content) -> tuple[Table, Table]:
    def when(at: dt.datetime) -> str:
        return f"{at.astimezone(zone):%Y-%m-%d %H:%M}"

    def person(user_id) -> str:
        return spreadsheet_safe(people.get(user_id, _("a former member"))) if user_id else ""

    rows, proofs, content["items"] = [], [], []
    for item in items:
        state, entries = states[item.pk], [e for e in history[item.pk] if e.at < cutoff]
        for entry in entries:
            entry.item = item  # the history's words name the item's obligation: no query per entry
        title = item.obligation.title_in(lang)
        current_due = item.due_date.isoformat() if item.due_date else None
        period = period_text(item, lang=lang, labels=labels)
        rows.append(
            [
                title,
                period,
                str(OUTCOMES[Outcome(state["applicability"])]),
                str(ChecklistItem.Status(state["status"]).label),
                state["due_date"] or "",
                # How the date was counted, when it is still the date it had then; a date that
                # moved since shows its earlier value and the history how it moved.
                due_basis_text(item.due_basis, lang, labels) if state["due_date"] == current_due else "",
                person(state["assignee"]),
                person(state["completed_by"]),
                when(state["completed_at"]) if state["completed_at"] else "",
                spreadsheet_safe(state["justification"] or ""),
                len(evidence[item.pk]),
                "\n".join(f"{when(e.at)} {history_text(e, people, lang=lang, labels=labels)}" for e in entries),
            ]
        )
        for proof in evidence[item.pk]:
            proofs.append(
                [
                    title,
                    proof.evidence_date.isoformat(),
                    spreadsheet_safe(proof.filename or proof.url or proof.note),
                    proof.sha256,
                    proof.size or "",
                    person(proof.uploaded_by_id),
                    when(proof.uploaded_at),
                ]
            )
        content["items"].append(
            [
                f"{item.obligation.instrument.code}:{item.obligation.key}",
                item.occurrence,
                item.event.date if item.event_id and item.event else None,
                {**state, **{k: people.get(state[k]) for k in ("assignee", "completed_by")}},
                [[p.evidence_date, p.sha256, p.url, p.note, p.filename] for p in evidence[item.pk]],
                [[e.at, e.action, e.actor.username if e.actor else None, e.changes, e.note] for e in entries],
            ]
        )
    columns = [
        _("Item"),
        _("Period"),
        _("Applicability"),
        _("Status"),
        _("Due date"),
        _("How the due date was set"),
        _("Assignee"),
        _("Completed by"),
        _("Completed at"),
        _("Reason it does not apply"),
        _("Evidence"),
        _("History"),
    ]
    evidence_columns = [
        _("Item"),
        _("Date the evidence shows"),
        _("File, link or note"),
        "SHA-256",
        _("Size (bytes)"),
        _("Added by"),
        _("Added at"),
    ]
    return (
        Table(str(_("Checklist")), [str(c) for c in columns], rows, widths=(18, 6, 6, 5, 7, 12, 6, 6, 6, 9, 4, 15)),
        Table(str(_("Evidence")), [str(c) for c in evidence_columns], proofs, widths=(24, 8, 20, 22, 6, 9, 11)),
    )
