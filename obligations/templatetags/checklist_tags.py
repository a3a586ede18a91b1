from django import template

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
