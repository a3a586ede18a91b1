from django import template

from obligations import wording
from obligations.wording import history_text, superseded_text
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
def label_in(provision, lang) -> str:
    """``{{ provision|label_in:lang }}``: 第十九条 / Art. 19."""
    return provision.label_in(lang)


@register.filter
def reference_in(obligation, lang) -> str:
    """``{{ obligation|reference_in:lang }}``: 深度合成管理规定 第十九条, never a code."""
    return obligation.reference_in(lang)


@register.simple_tag
def history_sentence(entry, people, lang) -> str:
    """One history entry in the page's language (obligations.wording.history_text)."""
    return history_text(entry, people, lang=lang)


@register.simple_tag
def superseded_because(item, lang) -> str:
    return superseded_text(item.superseded_reason, item.obligation, lang=lang)


@register.simple_tag(takes_context=True)
def waiting_names(context, waiting_for, lang) -> str:
    """The answers a needs-review item waits for, by their names: 企业资质与认定、服务上线.
    Pages pass ``vocabulary_labels`` (looked up once, lazily), so rows cost no query."""
    names = context.get("vocabulary_labels") or labels()
    words = [names.name(m["kind"], m["key"], lang) for m in waiting_for or []]
    return ("、" if lang == "zh" else ", ").join(words)


@register.simple_tag
def pending_text(basis, lang) -> str:
    return wording.pending_text(basis, lang=lang)
