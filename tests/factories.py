"""The objects tests build, with factory_boy, and the company profiles they answer with.

Users have an email and a password of their own (``password_for``), hashed fast in tests by
the autouse ``_fast_password_hashing`` of tests/conftest.py. Organizations are created through
``services.organization_create``, as the API creates them, so that their creator is their first
admin. The shared cast made from these (alice and her organization, API clients) is in
tests/conftest.py."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils.text import slugify
from rest_framework.test import APIClient

from obligations import services
from obligations.models import ChecklistItem, Membership, Organization, OrganizationEvent
from regulations.models import Obligation

# --- Profiles ----------------------------------------------------------------------------------

# A company registered in the Lingang Special Area of Shanghai that runs an app with face-swap
# features: it operates the app and provides deep synthesis (art. 23 of the Deep Synthesis
# Provisions), and its service has public-opinion attributes. Its checklist has items with and
# without due dates. (The answers as the API stores them: sets sorted.)
SHANGHAI_APP = {
    "roles": ["app_operator", "deep_synthesis_provider"],
    "registered_in": "CN-SH-LG",
    "operates_in": ["CN-SH"],
    "data_sourced_in": [],
    "sectors": [],
    "features": ["biometric_editing", "public_opinion_attributes"],
}


# --- Factories ---------------------------------------------------------------------------------


def password_for(username: str) -> str:
    """The password of a user made by UserFactory: each has their own."""
    return f"pw-{username}-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.LazyAttribute(lambda user: password_for(user.username))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create_user(*args, **kwargs)  # hashes the password


class OrganizationFactory(factory.django.DjangoModelFactory[Organization]):
    """An organization created by ``admin`` (a new user, ``<slug>-admin``, unless given), who
    becomes its first admin. ``profile=`` answers its questionnaire through the service, which
    syncs its checklist."""

    class Meta:
        model = Organization

    admin = factory.SubFactory(UserFactory, username=factory.LazyAttribute(lambda u: f"{u.factory_parent.slug}-admin"))
    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.LazyAttribute(lambda organization: slugify(organization.name))
    timezone = "Asia/Shanghai"
    profile = None

    @classmethod
    def _create(cls, model_class, *, admin, name, slug, timezone, profile):
        organization = services.organization_create(user=admin, name=name, slug=slug, timezone_name=timezone)
        if profile:
            services.profile_update(
                organization=organization, answers=profile, unset=[], replace=True, changed_by=admin
            )
        return organization


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.OFFICER


def unused_obligation(organization) -> Obligation | None:
    """The first obligation of the loaded catalogue (by id) the organization has no item for."""
    taken = ChecklistItem.objects.filter(organization=organization).values("obligation")
    return Obligation.objects.filter(retired=False).exclude(pk__in=taken).order_by("id").first()


class ChecklistItemFactory(factory.django.DjangoModelFactory[ChecklistItem]):
    """An item written directly, not by the checklist sync (so with no history), for an
    obligation of the loaded catalogue: by default one the organization has no item for yet."""

    class Meta:
        model = ChecklistItem

    organization = factory.SubFactory(OrganizationFactory)
    obligation = factory.LazyAttribute(lambda item: unused_obligation(item.organization))
    applicability = ChecklistItem.Applicability.APPLIES


class OrganizationEventFactory(factory.django.DjangoModelFactory[OrganizationEvent]):
    """An event written directly: the checklist is not synced (``services.event_report`` and
    the API do that)."""

    class Meta:
        model = OrganizationEvent

    organization = factory.SubFactory(OrganizationFactory)
    type_id = "service_launched"
    date = dt.date(2025, 1, 20)


# --- API clients -------------------------------------------------------------------------------


def api_client(user=None, *, token: str | None = None) -> APIClient:
    """A new API client: signed in as ``user``, or authenticating only with ``Authorization:
    Bearer <token>``, or (neither) anonymous. Each is independent, so one test can act as
    several people."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
