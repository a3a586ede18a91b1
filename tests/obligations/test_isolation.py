"""Generated isolation tests for every endpoint under /api/v1/organizations/<id>/.

The routes are found by walking the URL resolver at collection time, and the methods each one
accepts are read from its view, so a new endpoint is tested without anyone writing a test for
it. What the walk cannot guess (an object id for detail routes, a valid body for writes) comes
from REGISTRY below; a route without an entry fails, asking for one.

Each write is sent with a body that the organization's own admin may send successfully (see
``test_registry_requests_succeed_for_the_organizations_admin``): a refusal is then the
permission check at work, not a validation error hiding a hole.
"""

import datetime as dt
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.urls import URLResolver, get_resolver, resolve, reverse

from obligations import services
from obligations.models import (
    ApiToken,
    ChecklistChange,
    ChecklistItem,
    Download,
    Evidence,
    Membership,
    Organization,
    OrganizationEvent,
    ProfileVersion,
)
from obligations.services import calendar, outbound
from regulations.models import Obligation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


SCOPE = "api/v1/organizations/<id:organization_id>/"
METHODS = ("get", "post", "put", "patch", "delete")
WRITES = ("post", "put", "patch", "delete")
BODY_METHODS = ("post", "put", "patch")


# --- The routes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    route: str  # the full pattern, e.g. "api/v1/organizations/<id:organization_id>/^members/$"
    callback: Callable
    methods: tuple[str, ...]  # the methods the view accepts, in METHODS order
    object_kwargs: tuple[str, ...]  # URL arguments besides organization_id, e.g. ("pk",)

    def __str__(self) -> str:
        return self.name


def _walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        else:
            yield route, pattern


def allowed_methods(callback) -> tuple[str, ...]:
    view = callback.cls
    if getattr(callback, "actions", None) is not None:
        # A viewset route: the router's method -> action map, less what the viewset refuses.
        return tuple(m for m in METHODS if m in callback.actions and m in view.http_method_names)
    return tuple(m for m in METHODS if m in view.http_method_names and hasattr(view, m))


def _url_arguments(route: str) -> list[str]:
    """The named arguments of a route: <id:organization_id> in paths, (?P<pk>...) in regexes."""
    return re.findall(r"(?<!\?P)<(?:\w+:)?(\w+)>", route) + re.findall(r"\(\?P<(\w+)>", route)


def scoped_routes() -> list[Route]:
    routes = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith(SCOPE):
            continue
        routes.append(
            Route(
                name=pattern.name or route,
                route=route,
                callback=pattern.callback,
                methods=allowed_methods(pattern.callback),
                object_kwargs=tuple(a for a in _url_arguments(route) if a != "organization_id"),
            )
        )
    return sorted(routes, key=lambda r: r.name)


ROUTES = scoped_routes()


def route_method_params(keep=lambda route, method: True):
    return [
        pytest.param(route, method, id=f"{route.name}-{method}")
        for route in ROUTES
        for method in route.methods
        if keep(route, method)
    ]


# --- The registry: what a request to each route needs --------------------------------------

_serial = itertools.count(1)


def _new_member(organization) -> Membership:
    user = get_user_model().objects.create_user(f"member-{next(_serial)}", password="pw-member-123")
    return Membership.objects.create(organization=organization, user=user, role=Membership.Role.OFFICER)


def _new_invitation(organization):
    invitation, _secret = services.invitation_create(
        organization=organization, email=f"invitee-{next(_serial)}@example.com", role="officer", invited_by=None
    )
    return invitation


def _new_change(organization) -> ChecklistChange:
    return ChecklistChange.objects.create(organization=organization, cause={"code": "requested", "by": "x"}, counts={})


def _new_download(organization) -> Download:
    """A ready PDF its admin asked for (downloads are seen by the person who asked)."""
    admin = organization.memberships.filter(role=Membership.Role.ADMIN).first().user
    download = Download(organization=organization, requested_by=admin, kind="checklist", status="ready")
    download.file.save("checklist.pdf", ContentFile(b"%PDF-1.7 checklist"), save=False)
    download.filename, download.size = "checklist.pdf", 18
    download.save()
    return download


def _new_event(organization) -> OrganizationEvent:
    return OrganizationEvent.objects.create(
        organization=organization, type_id="request_received", date=dt.date(2025, 3, 3)
    )


def _new_item(organization) -> ChecklistItem:
    return ChecklistItem.objects.create(
        organization=organization,
        obligation=Obligation.objects.filter(retired=False).order_by("id")[next(_serial)],
        applicability="applies",
        due_date=dt.date(2027, 3, 15),
    )


def _new_evidence(organization) -> Evidence:
    evidence = Evidence(item=_new_item(organization), evidence_date=dt.date(2025, 1, 25), filename="receipt.pdf")
    evidence.file.save("receipt.pdf", ContentFile(b"%PDF-1.4 receipt"), save=False)
    evidence.content_type, evidence.size = "application/pdf", 16
    evidence.save()
    return evidence


def _new_feed(organization):
    admin = organization.memberships.filter(role=Membership.Role.ADMIN).first().user
    return calendar.feed_create(organization=organization, created_by=admin, name="all")[0]


def _new_endpoint(organization):
    # An address of a public host written as a number: checked without a DNS lookup.
    return outbound.endpoint_create(organization, actor=None, kind="webhook", url="https://93.184.215.14/hook")


def _etag(item) -> dict:
    item.refresh_from_db()
    return {"HTTP_IF_MATCH": f'"{item.pk}-{item.version}"'}


def _pdf(organization) -> dict:
    upload = SimpleUploadedFile("proof.pdf", b"%PDF-1.4 proof", content_type="application/pdf")
    return {"evidence_date": "2025-01-25", "file": upload}


def _bulk_body(organization) -> dict:
    """Two of the organization's items, as a client read them."""
    items = [_new_item(organization), _new_item(organization)]
    return {"items": [{"id": i.pk, "version": i.version} for i in items], "status": "in_progress"}


@dataclass(frozen=True)
class Entry:
    # For detail routes: creates an object of the given organization for the URL.
    make_object: Callable[[Organization], models.Model] | None = None
    # For POST, PUT and PATCH: a body the organization's admin may send, which changes data; a
    # callable gets the organization whose objects the request is about.
    bodies: dict[str, dict | Callable[[Organization], dict]] = field(default_factory=dict)
    # Request headers computed from the object, e.g. the If-Match an update needs.
    headers: Callable[[object], dict] | None = None
    multipart: bool = False
    # A write every member may make (their own preferences, a calendar feed): no viewer 403.
    viewers_write: bool = False


REGISTRY: dict[str, Entry] = {
    "organization-detail": Entry(bodies={"patch": {"name": "Taken over"}}),
    "profile": Entry(bodies={"patch": {"answers": {"employees": 12}}, "put": {"answers": {}}}),
    "profile-version-list": Entry(),
    "organization-applicability": Entry(),
    "questions": Entry(),
    "member-list": Entry(),
    "member-detail": Entry(make_object=_new_member, bodies={"patch": {"role": "admin"}}),
    "invitation-list": Entry(bodies={"post": {"email": "mallory@example.com", "role": "admin"}}),
    "invitation-detail": Entry(make_object=_new_invitation),
    "organization-event-list": Entry(bodies={"post": {"type": "service_launched", "date": "2025-01-20"}}),
    "organization-event-detail": Entry(make_object=_new_event),
    "checklist-item-list": Entry(),
    "checklist-change-list": Entry(),
    "checklist-change-detail": Entry(make_object=_new_change),
    "checklist-item-detail": Entry(make_object=_new_item, bodies={"patch": {"status": "done"}}, headers=_etag),
    "checklist-item-history": Entry(make_object=_new_item),
    "checklist-item-comments": Entry(make_object=_new_item, bodies={"post": {"text": "Filed on time."}}),
    "checklist-item-evidence": Entry(make_object=_new_item, bodies={"post": _pdf}, multipart=True),
    "checklist-item-export": Entry(),
    "checklist-item-plan": Entry(),
    "checklist-item-sync": Entry(bodies={"post": {}}),
    "checklist-item-bulk": Entry(bodies={"post": _bulk_body}),
    "evidence-detail": Entry(make_object=_new_evidence),
    "evidence-download": Entry(make_object=_new_evidence),
    "download-list": Entry(bodies={"post": {"kind": "checklist", "query": "status=open"}}, viewers_write=True),
    "download-detail": Entry(make_object=_new_download),
    "download-file": Entry(make_object=_new_download),
    "evidence-share": Entry(make_object=_new_evidence, bodies={"post": lambda o: {"items": [_new_item(o).pk]}}),
    "calendar-feed-config-list": Entry(bodies={"post": {"name": "Deadlines"}}, viewers_write=True),
    "calendar-feed-config-detail": Entry(make_object=_new_feed, viewers_write=True),
    "reminder-list": Entry(),
    "reminder-policy": Entry(bodies={"patch": {"days_before": [3, 0]}}),
    "reminder-preferences": Entry(bodies={"patch": {"reminder_hour": 8}}, viewers_write=True),
    "audit-event-list": Entry(),
    "audit-pack": Entry(),
    "endpoint-list": Entry(bodies={"post": {"kind": "webhook", "url": "https://93.184.215.14/hook"}}),
    "endpoint-detail": Entry(make_object=_new_endpoint, bodies={"patch": {"name": "Taken over"}}),
    "endpoint-rotate-secret": Entry(make_object=_new_endpoint, bodies={"post": {}}),
    "endpoint-deliveries": Entry(make_object=_new_endpoint),
}


def registry_entry(route: Route) -> Entry:
    entry = REGISTRY.get(route.name)
    if entry is None:
        pytest.fail(
            f"The route {route.route!r} (name {route.name!r}) has no entry in REGISTRY of "
            f"tests/obligations/test_isolation.py: add one so that its isolation is tested."
        )
    if route.object_kwargs and entry.make_object is None:
        pytest.fail(f"REGISTRY[{route.name!r}] needs make_object: the URL needs {route.object_kwargs}.")
    missing = [m for m in route.methods if m in BODY_METHODS and m not in entry.bodies]
    if missing:
        pytest.fail(f"REGISTRY[{route.name!r}] needs a valid body for {missing}.")
    return entry


def request_for(route: Route, method: str, *, url_organization, object_organization):
    """The URL and body of a request to ``route`` naming ``url_organization`` in the URL and,
    for detail routes, an object of ``object_organization``."""
    entry = registry_entry(route)
    kwargs = {"organization_id": url_organization.pk}
    target = None
    if route.object_kwargs:
        if len(route.object_kwargs) != 1:
            pytest.fail(
                f"{route.route!r}: the registry knows how to fill one object argument, not {route.object_kwargs}."
            )
        assert entry.make_object is not None  # registry_entry fails the test for a route without one
        target = entry.make_object(object_organization)
        kwargs[route.object_kwargs[0]] = target.pk
    url = reverse(route.name, kwargs=kwargs)
    assert resolve(urlsplit(url).path).func is route.callback, f"{route.name} reverses to another route: {url}"
    body = entry.bodies.get(method)
    request = Request(
        url=url,
        body=body(object_organization) if callable(body) else body,
        headers=entry.headers(target) if entry.headers and route.object_kwargs else {},
        format="multipart" if entry.multipart else "json",
    )
    return request


@dataclass
class Request:
    url: str
    body: dict | None
    headers: dict
    format: str


def send(client, method: str, request: "Request"):
    if request.body is None:
        return getattr(client, method)(request.url, **request.headers)
    return getattr(client, method)(request.url, request.body, format=request.format, **request.headers)


# --- The data that must not change ---------------------------------------------------------


def organization_rows(organization) -> dict:
    """Every row that belongs to the organization: the organization itself, the rows of every
    model with a foreign key to it (memberships, invitations, profile versions, events, and
    whatever is added later), and the rows of models pointing at those, and so on."""
    rows: dict[str, list[Mapping[str, Any]]] = {
        "organization": list(Organization.objects.filter(pk=organization.pk).values())
    }
    queue: list[tuple[type[models.Model], str]] = [(Organization, "")]
    seen: set[type[models.Model]] = {Organization}
    while queue:
        model, path = queue.pop(0)
        for relation in model._meta.related_objects:
            related = relation.related_model
            if related in seen or relation.many_to_many:
                continue
            seen.add(related)
            lookup = f"{relation.field.name}__{path}" if path else relation.field.name
            key = related._meta.label
            # Generic over the model: its _default_manager (`objects` for every model here) is typed on Model.
            rows[key] = list(related._default_manager.filter(**{lookup: organization.pk}).order_by("pk").values())
            queue.append((related, lookup))
    return rows


@pytest.fixture
def victim(make_user, make_organization, add_member):
    """An organization with an admin, an officer, a viewer, a profile, an event and a pending
    invitation: something to steal or break."""
    admin = make_user("victor")
    organization = make_organization(admin, "Victim Co")
    viewer = make_user("vera")
    add_member(organization, viewer, Membership.Role.VIEWER)
    add_member(organization, make_user("otto"), Membership.Role.OFFICER)
    answers = {"roles": ["app_operator"], "registered_in": "CN-SH-LG", "operates_in": ["CN-SH"]}
    # Written directly rather than through the service, which would also sync the checklist of
    # the whole catalogue: a second per test, hundreds of times.
    ProfileVersion.objects.create(
        organization=organization,
        number=1,
        answers=answers,
        changes={key: {"from": None, "to": value} for key, value in answers.items()},
        changed_by=admin,
    )
    OrganizationEvent.objects.create(
        organization=organization, type_id="service_launched", date=dt.date(2025, 1, 20), reported_by=admin
    )
    services.invitation_create(organization=organization, email="new@example.com", role="viewer", invited_by=admin)
    organization.admin, organization.viewer = admin, viewer
    return organization


@pytest.fixture
def mallory_org(make_user, make_organization):
    """Another organization, whose admin Mallory is no member of the victim."""
    organization = make_organization(make_user("mallory"), "Mallory Ltd")
    organization.admin = organization.memberships.get().user
    return organization


# --- The checks of the registry and of the walk itself -------------------------------------


def test_the_walk_finds_the_organization_routes():
    names = {route.name for route in ROUTES}
    assert {"organization-detail", "profile", "member-detail", "organization-event-list"} <= names
    assert all(route.methods for route in ROUTES), [r.name for r in ROUTES if not r.methods]


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_every_route_has_a_registry_entry(route):
    assert registry_entry(route) is REGISTRY[route.name]


def test_registry_has_no_entry_for_a_route_that_is_gone():
    assert set(REGISTRY) - {route.name for route in ROUTES} == set()


@pytest.mark.parametrize(("route", "method"), route_method_params())
def test_registry_requests_succeed_for_the_organizations_admin(route, method, victim, client_for):
    """The control for the tests below: the same request, sent by the organization's own admin,
    works, and a write changes data. So a 404 or 403 below is the permission check."""
    request = request_for(route, method, url_organization=victim, object_organization=victim)
    before = organization_rows(victim)
    response = send(client_for(victim.admin), method, request)
    assert 200 <= response.status_code < 300, (response.status_code, response.content[:500])
    if method in WRITES:
        assert organization_rows(victim) != before


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_methods_not_read_from_the_view_are_refused(route, victim, client_for):
    """The method discovery matches what the server does: every other method is a 405."""
    entry = registry_entry(route)
    kwargs = {"organization_id": victim.pk}
    if route.object_kwargs:
        kwargs[route.object_kwargs[0]] = entry.make_object(victim).pk
    client = client_for(victim.admin)
    for method in set(METHODS) - set(route.methods):
        url = reverse(route.name, kwargs=kwargs)
        response = send(client, method, Request(url, {} if method in BODY_METHODS else None, {}, "json"))
        assert response.status_code == 405, (method, response.status_code)


# --- Isolation -----------------------------------------------------------------------------


@pytest.mark.parametrize(("route", "method"), route_method_params())
def test_member_of_another_organization_gets_404_and_changes_nothing(route, method, victim, mallory_org, client_for):
    request = request_for(route, method, url_organization=victim, object_organization=victim)
    before = organization_rows(victim)
    response = send(client_for(mallory_org.admin), method, request)
    assert response.status_code == 404, (response.status_code, response.content[:500])
    assert organization_rows(victim) == before


@pytest.mark.parametrize(("route", "method"), route_method_params(lambda route, method: bool(route.object_kwargs)))
def test_another_organizations_object_through_my_own_organization_is_404(
    route, method, victim, mallory_org, client_for
):
    """Mallory names her own organization in the URL, where she is admin, and the victim's
    object id: the object is looked up within her organization only."""
    request = request_for(route, method, url_organization=mallory_org, object_organization=victim)
    before = organization_rows(victim)
    response = send(client_for(mallory_org.admin), method, request)
    assert response.status_code == 404, (response.status_code, response.content[:500])
    assert organization_rows(victim) == before


@pytest.mark.parametrize(
    ("route", "method"),
    route_method_params(lambda route, method: method in WRITES and not REGISTRY.get(route.name, Entry()).viewers_write),
)
def test_viewer_gets_403_on_writes_and_changes_nothing(route, method, victim, client_for):
    request = request_for(route, method, url_organization=victim, object_organization=victim)
    before = organization_rows(victim)
    response = send(client_for(victim.viewer), method, request)
    assert response.status_code == 403, (response.status_code, response.content[:500])
    assert organization_rows(victim) == before


@pytest.mark.parametrize(("route", "method"), route_method_params())
def test_anonymous_gets_401_or_403_and_changes_nothing(route, method, victim, client_for):
    request = request_for(route, method, url_organization=victim, object_organization=victim)
    before = organization_rows(victim)
    response = send(client_for(None), method, request)
    assert response.status_code in (401, 403), (response.status_code, response.content[:500])
    assert organization_rows(victim) == before


# --- Tokens --------------------------------------------------------------------------------


def test_another_users_token_answers_404_and_stays_active(make_user, client_for, bearer_client):
    owner, other = make_user("owner"), make_user("other")
    token, secret = services.token_create(user=owner, name="laptop")
    client = client_for(other)

    assert client.get(f"/api/v1/tokens/{token.pk}/").status_code == 404
    assert client.delete(f"/api/v1/tokens/{token.pk}/").status_code == 404
    assert token.pk not in {t["id"] for t in client.get("/api/v1/tokens/").json()["results"]}

    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    response = bearer_client(secret).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "owner"


# --- The web pages -------------------------------------------------------------------------
#
# The same walk over the pages under /organizations/<id>/: each page and each of its forms is
# sent by the organization's admin (the control), by a member of another organization, by that
# member through their own organization with the victim's object, by a viewer and anonymously.

PAGE_SCOPE = "organizations/<id:organization_id>/"


@dataclass(frozen=True)
class Page:
    name: str
    route: str
    object_kwargs: tuple[str, ...]

    def __str__(self) -> str:
        return self.name


def scoped_pages() -> list[Page]:
    return sorted(
        (
            Page(pattern.name, route, tuple(a for a in _url_arguments(route) if a != "organization_id"))
            for route, pattern in _walk(get_resolver().url_patterns)
            if route.startswith(PAGE_SCOPE)
        ),
        key=lambda p: p.name,
    )


PAGES = scoped_pages()


def _item_form(action: str, **fields) -> Callable[[ChecklistItem], dict]:
    def body(item: ChecklistItem) -> dict:
        item.refresh_from_db()
        return {"action": action, "version": item.version, **fields}

    return body


def _bulk_form(organization) -> dict:
    """The checklist page's selection: two of the organization's items, as the page lists them."""
    items = [_new_item(organization), _new_item(organization)]
    return {"items": [f"{i.pk}:{i.version}" for i in items], "status": "in_progress"}


def _feed_revoke(feed) -> dict:
    return {"action": "revoke", "feed": feed.pk}


@dataclass(frozen=True)
class PageEntry:
    make_object: Callable[[Organization], models.Model] | None = None
    get: bool = True
    # Form posts the organization's admin may send, each of which changes data; a callable gets
    # the page's object (or the organization).
    posts: dict[str, dict | Callable[[Any], dict]] = field(default_factory=dict)
    viewers_post: bool = False  # forms every member may send (their own preferences)


PAGE_REGISTRY: dict[str, PageEntry] = {
    "web-audit": PageEntry(),
    "web-audit-pack": PageEntry(),
    "web-changes": PageEntry(),
    "web-downloads": PageEntry(posts={"checklist": {"query": "status=open"}}, viewers_post=True),
    "web-dashboard": PageEntry(),
    "web-checklist": PageEntry(),
    "web-opportunities": PageEntry(),
    "web-item": PageEntry(
        make_object=_new_item,
        posts={
            "update": _item_form("update", status="in_progress", assignee="", justification="", note="started"),
            "comment": {"action": "comment", "text": "Filed on time."},
            "evidence": {"action": "evidence", "evidence_date": "2025-01-25", "note": "Receipt no. 7"},
        },
    ),
    "web-item-status": PageEntry(make_object=_new_item, get=False, posts={"done": _item_form("", status="done")}),
    "web-checklist-bulk": PageEntry(get=False, posts={"selection": _bulk_form}),
    "web-profile": PageEntry(posts={"answers": {"unknown-employees": "", "employees": "12"}}),
    "web-members": PageEntry(
        posts={
            "invite": {"action": "invite", "email": "newcomer@example.com", "role": "officer"},
            "role": lambda organization: {"action": "role", "member": _new_member(organization).pk, "role": "viewer"},
            "remove": lambda organization: {"action": "remove", "member": _new_member(organization).pk},
            "revoke": lambda organization: {"action": "revoke", "invitation": _new_invitation(organization).pk},
            "policy": {
                "action": "policy",
                "days_before": "14, 3, 0",
                "overdue_every_days": "3",
                "overdue_slow_after_days": "20",
                "overdue_slow_every_days": "10",
                "escalate_after_days": "5",
            },
        }
    ),
    "web-endpoints": PageEntry(
        posts={
            "create": {
                "action": "create",
                "kind": "webhook",
                "url": "https://93.184.215.14/hook",
                "events": ["item.overdue"],
                "language": "zh",
            },
            "off": lambda organization: {"action": "off", "endpoint": _new_endpoint(organization).pk},
            "rotate": lambda organization: {"action": "rotate", "endpoint": _new_endpoint(organization).pk},
            "delete": lambda organization: {"action": "delete", "endpoint": _new_endpoint(organization).pk},
        }
    ),
    "web-preferences": PageEntry(
        make_object=None,
        posts={
            "preferences": {
                "action": "preferences",
                "reminders_enabled": "on",
                "reminder_language": "en",
                "reminder_delivery": "daily",
                "reminder_hour": "7",
                "reminder_timezone": "Europe/Berlin",
                "reminder_weekday": "4",
                "reminder_channel": "email",
            },
            "feed": {"action": "feed", "name": "Deadlines", "language": "zh"},
        },
        viewers_post=True,
    ),
}


def page_params(keep=lambda page, post: True):
    params = []
    for page in PAGES:
        entry = PAGE_REGISTRY.get(page.name, PageEntry())
        posts = [None] if entry.get else []
        params += [pytest.param(page, post, id=f"{page.name}-{post or 'get'}") for post in posts + list(entry.posts)]
    return [p for p in params if keep(*p.values)]


def page_request(page: Page, post: str | None, *, url_organization, object_organization):
    entry = PAGE_REGISTRY.get(page.name)
    if entry is None:
        pytest.fail(f"The page {page.route!r} has no entry in PAGE_REGISTRY of {__name__}: add one.")
    kwargs = {"organization_id": url_organization.pk}
    target = object_organization
    if page.object_kwargs:
        if entry.make_object is None:
            pytest.fail(f"PAGE_REGISTRY[{page.name!r}] needs make_object: the URL needs {page.object_kwargs}.")
        target = entry.make_object(object_organization)
        kwargs[page.object_kwargs[0]] = target.pk
    body = entry.posts[post] if post else None
    return reverse(page.name, kwargs=kwargs), (body(target) if callable(body) else body)


def send_page(client, url: str, body: dict | None):
    return client.get(url) if body is None else client.post(url, body)


@pytest.fixture
def browser_for():
    from django.test import Client

    def make(user=None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


def test_the_page_walk_finds_every_page_and_each_has_an_entry():
    assert {"web-dashboard", "web-checklist", "web-item", "web-profile", "web-preferences"} <= {p.name for p in PAGES}
    assert sorted(PAGE_REGISTRY) == sorted(p.name for p in PAGES)


@pytest.mark.parametrize(("page", "post"), page_params())
def test_page_requests_succeed_for_the_organizations_admin(page, post, victim, browser_for):
    url, body = page_request(page, post, url_organization=victim, object_organization=victim)
    before = organization_rows(victim)
    response = send_page(browser_for(victim.admin), url, body)
    assert response.status_code in (200, 302), (response.status_code, response.content[:500])
    if body is not None:
        assert organization_rows(victim) != before, "the control post changed nothing"


@pytest.mark.parametrize(("page", "post"), page_params())
def test_page_of_another_organization_is_404_and_changes_nothing(page, post, victim, mallory_org, browser_for):
    url, body = page_request(page, post, url_organization=victim, object_organization=victim)
    before = organization_rows(victim)
    response = send_page(browser_for(mallory_org.admin), url, body)
    assert response.status_code == 404, (response.status_code, response.content[:300])
    assert organization_rows(victim) == before


@pytest.mark.parametrize(("page", "post"), page_params(lambda page, post: bool(page.object_kwargs)))
def test_page_with_another_organizations_object_through_my_own_is_404(page, post, victim, mallory_org, browser_for):
    url, body = page_request(page, post, url_organization=mallory_org, object_organization=victim)
    before = organization_rows(victim)
    response = send_page(browser_for(mallory_org.admin), url, body)
    assert response.status_code == 404, (response.status_code, response.content[:300])
    assert organization_rows(victim) == before


@pytest.mark.parametrize(
    ("page", "post"), page_params(lambda page, post: post is not None and not PAGE_REGISTRY[page.name].viewers_post)
)
def test_page_post_from_a_viewer_is_403_and_changes_nothing(page, post, victim, browser_for):
    url, body = page_request(page, post, url_organization=victim, object_organization=victim)
    before = organization_rows(victim)
    response = send_page(browser_for(victim.viewer), url, body)
    assert response.status_code == 403, (response.status_code, response.content[:300])
    assert organization_rows(victim) == before


@pytest.mark.parametrize(("page", "post"), page_params())
def test_page_for_an_anonymous_visitor_redirects_to_sign_in_and_changes_nothing(page, post, victim, browser_for):
    url, body = page_request(page, post, url_organization=victim, object_organization=victim)
    before = organization_rows(victim)
    response = send_page(browser_for(), url, body)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login")), response
    assert organization_rows(victim) == before


@pytest.mark.parametrize("page", [p for p in PAGES if not PAGE_REGISTRY[p.name].posts], ids=str)
def test_pages_without_forms_refuse_posts(page, victim, browser_for):
    url, _body = page_request(page, None, url_organization=victim, object_organization=victim)
    assert browser_for(victim.admin).post(url, {}).status_code == 405
