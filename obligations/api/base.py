"""One base for every endpoint under /api/v1/organizations/<id>/: it resolves the
organization from the URL through the requester's membership, so another organization's
objects answer 404, and it refuses writes to roles that may not make them."""

from django.http import Http404
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework.views import APIView

from ..models import Membership

WRITERS = frozenset({Membership.Role.ADMIN, Membership.Role.OFFICER})
ADMINS = frozenset({Membership.Role.ADMIN})


class OrganizationScopedMixin:
    """``self.organization`` and ``self.membership`` are set before the handler runs."""

    write_roles: frozenset[str] = WRITERS
    read_roles: frozenset[str] | None = None  # None: every member may read

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication and IsAuthenticated first
        membership = (
            Membership.objects.select_related("organization")
            .filter(organization_id=kwargs["organization_id"], user=request.user)
            .first()
        )
        if membership is None:
            raise Http404("No such organization.")
        self.membership, self.organization = membership, membership.organization
        allowed = self.write_roles if request.method not in SAFE_METHODS else self.read_roles
        if allowed is not None and membership.role not in allowed:
            raise PermissionDenied(
                f"Your role in this organization ({membership.role}) does not allow this; "
                f"it needs {' or '.join(sorted(allowed))}."
            )


class OrganizationAPIView(OrganizationScopedMixin, APIView):
    pass


class OrganizationViewSet(OrganizationScopedMixin, viewsets.GenericViewSet):
    """Subclasses scope their queryset with ``self.organization``."""


def scoped(view, queryset):
    """The queryset limited to the view's organization (empty while the schema is generated)."""
    if getattr(view, "swagger_fake_view", False):
        return queryset.none()
    return queryset.filter(organization=view.organization)
