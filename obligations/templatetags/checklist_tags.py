from django import template

register = template.Library()


@register.filter
def overdue_on(item, today) -> bool:
    """``{% if item|overdue_on:today %}``: the one definition of overdue, as the API uses it."""
    return bool(today) and item.is_overdue(today)
