"""Hardening: security headers on API and web answers, and an item history that no route can
alter: the API offers only reads of it, and the admin shows it read-only, even to a
superuser."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from obligations.models import ItemHistory

from .conftest import item_url

pytestmark = pytest.mark.django_db

READS = {"get", "head", "options"}


# --- Security headers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "signed_in"),
    [
        ("get", "/api/v1/instruments/", False),  # public API
        ("post", "/api/v1/deadlines/compute", False),  # public API, a 400
        ("get", "/api/v1/me/", False),  # API refusal
        ("get", "/api/v1/organizations/{org}/checklist/", True),  # API, signed in
        ("get", "/api/v1/organizations/{org}/checklist/export/", True),  # CSV
        ("get", "/api/schema/", False),
        ("get", "/accounts/login/", False),  # web page
        ("get", "/organizations/{org}/checklist/", True),  # web page, signed in
        ("get", "/no/such/page/", False),  # 404
        ("get", "/admin/", True),
    ],
)
def test_security_headers_on_api_and_web_answers(world, method, path, signed_in):
    client = Client()
    if signed_in:
        world.admin.is_staff = world.admin.is_superuser = True
        world.admin.save()
        client.force_login(world.admin)
    response = getattr(client, method)(path.format(org=world.organization.pk))

    assert response.status_code < 500
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] in ("DENY", "SAMEORIGIN")
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


# --- History cannot be altered -------------------------------------------------------------


def routes(patterns=None, prefix=""):
    """Every (route, view) the URL configuration serves."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def methods(view) -> set[str]:
    """The HTTP methods a view answers: a viewset route's actions, or an APIView's handlers."""
    if getattr(view, "actions", None):
        return set(view.actions) | {"head", "options"}
    cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
    assert cls is not None, f"{view} is neither an API view nor a class-based view"
    return {name for name in cls.http_method_names if hasattr(cls, name)}


def test_no_api_route_writes_history():
    history_routes = {
        route: methods(view) for route, view in routes() if route.startswith("api/") and "history" in route
    }

    assert history_routes, "no history route found: did the URL layout change?"
    assert {route: allowed - READS for route, allowed in history_routes.items() if allowed - READS} == {}


@pytest.mark.parametrize("method", ["put", "patch", "delete", "post"])
def test_history_refuses_writes(world, method):
    history = list(ItemHistory.objects.filter(item=world.item).values())
    api = world.api

    response = getattr(api, method)(item_url(world.item, "history/"), {"note": "rewritten"}, format="json")

    assert response.status_code == 405
    assert list(ItemHistory.objects.filter(item=world.item).values()) == history


def test_admin_shows_history_read_only_even_to_a_superuser(world, make_user):
    entry = ItemHistory.objects.filter(item=world.item).order_by("id").first()
    before = ItemHistory.objects.filter(pk=entry.pk).values().get()
    count = ItemHistory.objects.count()
    admin = Client()
    admin.force_login(make_user("root", is_staff=True, is_superuser=True))
    base = f"/admin/obligations/itemhistory/{entry.pk}"

    page = admin.get(f"{base}/change/")
    assert page.status_code == 200  # viewing is allowed...
    assert b'name="_save"' not in page.content and b'name="note"' not in page.content  # ...editing is not
    assert admin.post(f"{base}/change/", {"action": "updated", "note": "rewritten", "_save": "Save"}).status_code == 403
    assert admin.get(f"{base}/delete/").status_code == 403
    assert admin.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    assert admin.get("/admin/obligations/itemhistory/add/").status_code == 403
    bulk = admin.post(
        "/admin/obligations/itemhistory/", {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    # Nor through the item's page, where the history is an inline.
    item_page = admin.get(f"/admin/obligations/checklistitem/{world.item.pk}/change/")
    assert item_page.status_code == 200
    for field in (b'name="history-0-note"', b'name="history-0-action"', b'name="history-0-DELETE"', b'name="_save"'):
        assert field not in item_page.content
    inline_edit = {"history-TOTAL_FORMS": "1", "history-INITIAL_FORMS": "1", "history-0-id": str(entry.pk)}
    inline_edit |= {"history-0-item": str(world.item.pk), "history-0-note": "rewritten", "history-0-DELETE": "on"}
    assert admin.post(f"/admin/obligations/checklistitem/{world.item.pk}/change/", inline_edit).status_code == 403

    assert ItemHistory.objects.count() == count
    assert ItemHistory.objects.filter(pk=entry.pk).values().get() == before
