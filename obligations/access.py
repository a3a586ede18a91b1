"""Who may see and change an organization's data, decided in one place for the API and the
web pages: the organization is found through the requester's membership (another
organization answers 404, as if it did not exist), and each kind of change names the roles
that may make it."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from .models import Membership

ADMINS = frozenset({Membership.Role.ADMIN})
WRITERS = frozenset({Membership.Role.ADMIN, Membership.Role.OFFICER})
EVERYONE = frozenset(Membership.Role)


def membership_for(user, organization_id) -> Membership:
    """The requester's membership of the organization in the URL, with the organization."""
    membership = None
    if getattr(user, "is_authenticated", False):
        membership = (
            Membership.objects.select_related("organization").filter(organization_id=organization_id, user=user).first()
        )
    if membership is None:
        raise Http404(_("No such organization."))
    return membership


def may(membership: Membership, roles: frozenset[str]) -> bool:
    return membership.role in roles


def require(membership: Membership, roles: frozenset[str]) -> None:
    """PermissionDenied (403 in the API and the pages) unless the member's role is in ``roles``."""
    if not may(membership, roles):
        raise PermissionDenied(
            _("Your role in this organization (%(role)s) does not allow this; it needs %(needed)s.")
            % {
                "role": Membership.Role(membership.role).label,
                "needed": _(" or ").join(str(Membership.Role(r).label) for r in sorted(roles)),
            }
        )
