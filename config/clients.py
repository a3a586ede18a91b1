"""Who is asking: the client address that rate limits and the sign-in lockout count by, and
the answer a locked-out sign-in gets. One rule for every limit, so that no limit can be
dodged through another door."""

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _


def client_ip(request) -> str:
    """The address the request came from. ``X-Forwarded-For`` is read only when BEHIND_PROXY
    says trusted proxies are in front, and then only the entry the nearest of them wrote
    (PROXY_COUNT from the right): entries further left come from the client, which can write
    anything there. Without a proxy the header is ignored."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not settings.BEHIND_PROXY:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    return forwarded[-settings.PROXY_COUNT] if len(forwarded) >= settings.PROXY_COUNT else remote


def without_password(request, credentials=None) -> bool:
    """Whether django-axes should leave a sign-in attempt out of its count: single sign-on
    passes no password, and the limit is on guessing passwords."""
    return not (credentials or {}).get("password")


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer once an address has failed too often for a username: the sign-in
    page again, saying so, with 429."""
    from django.contrib.auth.forms import AuthenticationForm  # apps are loaded by the time it answers

    from obligations.sso import sign_in_options

    message = _("Too many failed sign-in attempts. Try again in 15 minutes.")
    context = {"form": AuthenticationForm(request), "locked": message, **sign_in_options()}
    return render(request, "registration/login.html", context, status=429)
