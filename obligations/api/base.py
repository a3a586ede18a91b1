"""One base for every endpoint under /api/v1/organizations/<id>/: the organization and the
requester's membership come from obligations.access, as in the web pages, so another
organization's objects answer 404 and a role that may not write gets 403."""

from rest_framework import viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.views import APIView

from config.converters import ID_PATTERN

from .. import access


class OrganizationScopedMixin:
    """``self.organization`` and ``self.membership`` are set before the handler runs."""

    write_roles: frozenset[str] = access.WRITERS
    read_roles: frozenset[str] = access.EVERYONE

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication and IsAuthenticated first
        self.membership = access.membership_for(request.user, kwargs["organization_id"])
        self.organization = self.membership.organization
        request.organization = self.organization  # for filters whose choices are the organization's
        access.require(self.membership, self.read_roles if request.method in SAFE_METHODS else self.write_roles)


class OrganizationAPIView(OrganizationScopedMixin, APIView):
    pass


class OrganizationViewSet(OrganizationScopedMixin, viewsets.GenericViewSet):
    """Subclasses scope their queryset with ``scoped``."""

    lookup_value_regex = ID_PATTERN  # see config.converters


def scoped(view, queryset):
    """The queryset limited to the view's organization (empty while the schema is generated)."""
    if getattr(view, "swagger_fake_view", False):
        return queryset.none()
    return queryset.filter(organization=view.organization)
