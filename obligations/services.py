"""Writes for organizations and their members."""

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Membership, Organization


@transaction.atomic
def demo_setup(*, username: str, password: str, organization_name: str) -> tuple[Organization, bool]:
    """Create (or reset the password of) the demo user and its organization. Returns the
    organization and whether the user was created. The demo user is a superuser so that it can
    sign in to the admin on a local machine; it is never created outside `make run`."""
    User = get_user_model()
    organization, _ = Organization.objects.get_or_create(slug="demo", defaults={"name": organization_name})
    user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
    user.set_password(password)
    user.is_staff = user.is_superuser = True
    user.save()
    Membership.objects.get_or_create(organization=organization, user=user, defaults={"role": Membership.Role.ADMIN})
    return organization, created
