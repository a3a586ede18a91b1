"""API plumbing shared by every app: pagination, strict query parameters, error shape."""

import logging
from collections.abc import Mapping

from django.conf import settings
from django.db import DatabaseError
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


# Parameters every list endpoint understands besides its filters.
COMMON_QUERY_PARAMS = {"page", "page_size", "ordering", "format"}


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, but a query parameter that no filter knows is a 400, not silently ignored:
    a typo in a filter name would otherwise return the unfiltered list as if it were the answer."""

    def filter_queryset(self, request, queryset, view):
        allowed = set(COMMON_QUERY_PARAMS) | set(getattr(view, "extra_query_params", ()))
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            allowed |= set(filterset_class.base_filters)
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError({name: ["Unknown query parameter."] for name in unknown})
        return super().filter_queryset(request, queryset, view)


class ResilientThrottleMixin:
    """Rate limits read their counters from the cache (Redis in production). If the cache is
    down the request is let through: rate limits protect the service and must not take it
    down with Redis. Rates are read from settings on each request, so they can be changed
    (and tests can change them) without a restart."""

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


class StrictOrderingFilter(OrderingFilter):
    """An ``ordering`` naming a field that cannot be ordered by is a 400, not ignored."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            allowed = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
            unknown = [f for f in (p.strip().lstrip("-") for p in params.split(",")) if f not in allowed]
            if unknown:
                raise ValidationError({self.ordering_param: [f"Cannot order by {', '.join(unknown)}."]})
        return super().get_ordering(request, queryset, view)


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None and isinstance(exc, DatabaseError):
        logger.exception("database unavailable")
        return Response(
            {"detail": "The database is unavailable. Try again shortly.", "code": "database_unavailable"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return response


def language(request) -> str:
    """ "zh" or "en", from the Accept-Language header or the language chosen in the web pages."""
    return "zh" if getattr(request, "LANGUAGE_CODE", "en").lower().startswith("zh") else "en"


class StrictFieldsMixin:
    """For input serializers: a field the serializer does not know is a 400, not silently
    dropped, for the same reason as unknown query parameters."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            # `format` picks the renderer (?format=json) on any endpoint.
            unknown = sorted(set(data) - set(self.fields) - {"format"})
            if unknown:
                raise ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)
