"""Rate limits. Apart from config.api because DRF imports the throttle setting while
rest_framework.views loads, which config.api itself imports."""

import logging

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle

from config.clients import client_ip

logger = logging.getLogger(__name__)


class ResilientThrottleMixin:
    """Rate limits read their counters from the cache (Redis in production). If the cache is
    down the request is let through: rate limits protect the service and must not take it
    down with Redis. Rates are read from settings on each request, so they can be changed
    (and tests can change them) without a restart."""

    def get_ident(self, request):
        # DRF's own reads X-Forwarded-For whenever it is sent: any client could then pose as
        # a new address on every request.
        return client_ip(request)

    def get_rate(self):
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].get(self.scope)

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:  # a cache outage, whatever the client library raises
            logger.warning("rate limit not applied: cache unavailable", exc_info=True)
            return True


class AnonThrottle(ResilientThrottleMixin, AnonRateThrottle):
    pass


class UserThrottle(ResilientThrottleMixin, UserRateThrottle):
    pass


class ScopedThrottle(ResilientThrottleMixin, ScopedRateThrottle):
    """For views with a ``throttle_scope`` (token creation, sign-in...)."""


class InvitationThrottle(ResilientThrottleMixin, UserRateThrottle):
    """Guessing invitation codes: limited per user."""

    scope = "invitations"
