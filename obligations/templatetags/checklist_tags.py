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
def title_in(obligation, lang) -> str:
    """``{{ obligation|title_in:lang }}``: where it comes from and what it asks."""
    return obligation.title_in(lang)


@register.filter
def act_name(act, lang) -> str:
    """``{{ act|act_name:lang }}``: the act several obligations ask for, by name."""
    return act.name_in(lang)


@register.filter
def reference_in(obligation, lang) -> str:
    """``{{ obligation|reference_in:lang }}``: 深度合成管理规定 第十九条, never a code."""
    return obligation.reference_in(lang)


# Pages pass ``vocabulary_labels`` (the vocabulary's names, looked up once and lazily): the tags
# below that name vocabulary terms read them there, so rows and history entries cost no query.


def _names(context):
    return context.get("vocabulary_labels") or labels()


@register.simple_tag(takes_context=True)
def history_sentence(context, entry, people, lang) -> str:
    """One history entry in the page's language (obligations.wording.history_text)."""
    return history_text(entry, people, lang=lang, labels=_names(context))


@register.simple_tag(takes_context=True)
def superseded_because(context, item, lang) -> str:
    return superseded_text(item.superseded_reason, item.obligation, lang=lang, labels=_names(context))


@register.simple_tag(takes_context=True)
def waiting_names(context, waiting_for, lang) -> str:
    """The answers a needs-review item waits for, by their names: 企业资质与认定、服务上线."""
    names = _names(context)
    words = [names.name(m["kind"], m["key"], lang) for m in waiting_for or []]
    return ("、" if lang == "zh" else ", ").join(words)


@register.simple_tag(takes_context=True)
def pending_text(context, basis, lang) -> str:
    return wording.pending_text(basis, lang=lang, labels=_names(context))
