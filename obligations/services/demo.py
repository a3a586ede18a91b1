"""The demo organization that `make run` sets up."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from regulations.deadlines import Direction, Unit, compute
from regulations.selectors import work_calendar

from ..models import Membership, Organization
from ..selectors import profile_current
from .profile import event_report, profile_update

# --- Demo ----------------------------------------------------------------------------------


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
    if profile_current(organization).number == 0:
        profile_update(organization=organization, answers=DEMO_PROFILE, unset=[], replace=True, changed_by=user)
        event_report(
            organization=organization,
            reported_by=user,
            type_id="service_launched",
            date=_demo_launch_date(timezone.localdate()),
            subject="Demo face-swap app",
        )
    return organization, created


def _demo_launch_date(today: dt.date) -> dt.date:
    """A launch date whose 10-working-day filing deadline falls tomorrow or in a week, so that
    the demo has a reminder to send today (the policy reminds 1 and 7 days before)."""
    calendar = work_calendar()
    candidates = [today - dt.timedelta(days=n) for n in range(1, 40)]
    for target in (today + dt.timedelta(days=1), today + dt.timedelta(days=7)):
        for launch in candidates:
            if compute(launch, 10, Unit.WORKING_DAYS, Direction.AFTER, calendar).due_date == target:
                return launch
    return today - dt.timedelta(days=3)


# A Lingang company running a face-swap APP: deep synthesis, APP filing and Shanghai rules.
DEMO_PROFILE = {
    "roles": ["app_operator", "deep_synthesis_provider", "enterprise"],
    "registered_in": "CN-SH-LG",
    "operates_in": ["CN-SH"],
    "data_sourced_in": [],
    "features": ["biometric_editing", "public_opinion_attributes"],
    "sectors": [],
}
