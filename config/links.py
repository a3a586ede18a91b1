"""Absolute links for what leaves the request: emails and calendar events. Built with
``reverse`` from the URL names, so a moved route moves every link with it."""

from django.conf import settings
from django.urls import reverse


def absolute(viewname: str, *args, **kwargs) -> str:
    return settings.SITE_URL + reverse(viewname, args=args or None, kwargs=kwargs or None)
