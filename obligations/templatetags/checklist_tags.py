from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from obligations.models import ChecklistItem
from regulations.selectors import labels

register = template.Library()


@register.filter
def overdue_on(item, today) -> bool:
    """``{% if item|overdue_on:today %}``: the one definition of overdue, as the API uses it."""
    return bool(today) and item.is_overdue(today)


@register.filter
def summary_in(obligation, lang) -> str:
    """``{{ obligation|summary_in:lang }}``: the summary in the reader's language."""
    return obligation.summary_in(lang)


@register.filter
def interpretation_in(obligation, lang) -> str:
    return obligation.interpretation_in(lang)


@register.filter
def reference_in(obligation, lang) -> str:
    """``{{ obligation|reference_in:lang }}``: 深度合成管理规定 第十九条, never a code."""
    return obligation.reference_in(lang)


# --- History in sentences ----------------------------------------------------------------------

FIELD_NAMES = {
    "status": gettext_lazy("status"),
    "assignee": gettext_lazy("assignee"),
    "justification": gettext_lazy("reason it does not apply"),
    "due_date": gettext_lazy("due date"),
    "opens": gettext_lazy("window opening"),
    "applicability": gettext_lazy("applicability"),
    "waiting_for": gettext_lazy("open questions"),
}


def _value(field: str, value, people: dict) -> str:
    if value in (None, "", []):
        return str(_("none"))
    if field == "status":
        return str(ChecklistItem.Status(value).label)
    if field == "assignee":
        return people.get(value, str(_("a former member")))
    if field == "applicability":
        return str(ChecklistItem.Applicability(value).label)
    if field == "waiting_for":
        return str(len(value))
    return str(value)


@register.simple_tag
def history_sentence(entry, people) -> str:
    """One history entry as a sentence in the page's language: 王芳 将状态从“待办”改为“已完成”。
    ``people``: user id -> username, for assignees named by id."""
    actor = entry.actor.username if entry.actor else str(_("The system"))
    changes = [
        _("%(field)s from “%(old)s” to “%(new)s”")
        % {
            "field": FIELD_NAMES.get(field, field),
            "old": _value(field, change.get("from"), people),
            "new": _value(field, change.get("to"), people),
        }
        for field, change in entry.changes.items()
        if change.get("from") != change.get("to")
    ]
    action = entry.action
    if action == "created":
        due = entry.changes.get("due_date", {}).get("to")
        if due:
            return _("%(actor)s added the item, due %(due)s.") % {"actor": actor, "due": due}
        return _("%(actor)s added the item.") % {"actor": actor}
    if action in ("updated", "redated") and changes:
        return _("%(actor)s changed %(changes)s.") % {"actor": actor, "changes": _("; ").join(changes)}
    labels = {
        "updated": _("%(actor)s updated the item."),
        "redated": _("%(actor)s moved the due date."),
        "superseded": _("%(actor)s set the item aside: it no longer applies."),
        "restored": _("%(actor)s restored the item: it applies again."),
        "commented": _("%(actor)s commented."),
        "evidence_added": _("%(actor)s added evidence."),
    }
    return labels.get(action, _("%(actor)s updated the item.")) % {"actor": actor}


@register.simple_tag(takes_context=True)
def waiting_names(context, waiting_for, lang) -> str:
    """The answers a needs-review item waits for, by their names: 企业资质与认定、服务上线.
    Pages pass ``vocabulary_labels`` (looked up once, lazily), so rows cost no query."""
    names = context.get("vocabulary_labels") or labels()
    words = [names.name(m["kind"], m["key"], lang) for m in waiting_for or []]
    return ("、" if lang == "zh" else ", ").join(words)


PENDING = {
    "ongoing": gettext_lazy("a standing duty"),
    "qualitative": gettext_lazy("the text gives the timing in words only"),
    "no_more": gettext_lazy("no further periods"),
    "awaiting_first_completion": gettext_lazy("due now, then again one period after each completion"),
}


@register.simple_tag
def pending_text(basis, lang) -> str:
    """Why an item has no date yet, in words (the basis keeps a code such as ``needs_event:…``)."""
    pending = (basis or {}).get("pending") or ""
    if pending.startswith("needs_event:"):
        event = labels().name("event", pending.split(":", 1)[1], lang)
        return _("dated once “%(event)s” is reported") % {"event": event}
    return str(PENDING.get(pending, ""))
