"""One rule, every door: the same bad input is refused with the same field named by the API,
the web form, the admin and the service itself, and nothing is stored."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from obligations import services
from obligations.errors import ServiceError
from obligations.models import AuditEvent, ChecklistItem, Organization
from regulations.models import Obligation

pytestmark = pytest.mark.django_db

BAD = [
    pytest.param({"name": "N" * 300, "slug": "long-name"}, "name", id="300-character name"),
    pytest.param({"name": "Acme", "slug": "s" * 300}, "slug", id="300-character slug"),
    pytest.param({"name": "Acme", "slug": "a b"}, "slug", id="slug with a space"),
    pytest.param({"name": "Acme", "slug": "a b/../x"}, "slug", id="slug with slashes"),
    pytest.param({"name": "Acme", "slug": 'acme"x'}, "slug", id="slug with a quote"),
    pytest.param({"name": "Acme", "slug": "acme\nx"}, "slug", id="slug with a line break"),
    pytest.param({"name": "Ac\x00me", "slug": "acme"}, "name", id="NUL in the name"),
    pytest.param({"name": "\u200b\u200b", "slug": "acme"}, "name", id="name of zero-width spaces only"),
    pytest.param({"name": "Acme \u202egnp.exe", "slug": "acme"}, "name", id="name with a bidi override"),
    pytest.param({"name": "   ", "slug": "acme"}, "name", id="name of spaces only"),
]


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", "ada@example.com", "pw-ada-123", is_staff=True)


@pytest.mark.parametrize(("data", "field"), BAD)
def test_web_form_names_the_field_and_stores_nothing(user, data, field):
    client = Client()
    client.force_login(user)
    response = client.post("/organizations/", data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Organization.objects.exists()


@pytest.mark.parametrize(("data", "field"), BAD)
def test_api_names_the_field_and_stores_nothing(user, data, field):
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/v1/organizations/", data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Organization.objects.exists()


@pytest.mark.parametrize(("data", "field"), BAD)
def test_service_names_the_field_and_stores_nothing(user, data, field):
    with pytest.raises(ServiceError) as refused:
        services.organization_create(user=user, **data)
    assert field in refused.value.errors
    assert not Organization.objects.exists()


def _admin_change(admin_client, organization, data):
    url = f"/admin/obligations/organization/{organization.pk}/change/"
    inline = {"memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    return admin_client.post(url, {"timezone": "Asia/Shanghai", **inline, **data})


@pytest.mark.parametrize(("data", "field"), BAD)
def test_admin_names_the_field_and_changes_nothing(admin_client, user, data, field):
    organization = services.organization_create(user=user, name="Acme", slug="acme-co")
    response = _admin_change(admin_client, organization, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]
    assert Organization.objects.values_list("name", "slug").get() == ("Acme", "acme-co")


def test_admin_cannot_create_organizations_without_their_first_admin(admin_client):
    # Organizations are created by their users, who become their first admins (the service).
    assert admin_client.get("/admin/obligations/organization/add/").status_code == 403


def test_taken_slug_is_a_form_error_on_the_page(user):
    services.organization_create(user=user, name="Acme", slug="acme")
    client = Client()
    client.force_login(user)
    response = client.post("/organizations/", {"name": "Acme Two", "slug": "acme"})
    assert response.status_code == 200 and response.context["form"].errors["slug"]
    assert Organization.objects.count() == 1


def test_valid_organization_from_the_page_makes_the_creator_its_admin(user):
    client = Client()
    client.force_login(user)
    response = client.post("/organizations/", {"name": "  深圳数据科技有限公司 ", "slug": "sz-data"})
    organization = Organization.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/organizations/{organization.pk}/profile/"
    assert (organization.name, organization.slug) == ("深圳数据科技有限公司", "sz-data")
    assert organization.memberships.get().user == user


def test_admin_rejects_an_unknown_time_zone(admin_client, user):
    organization = services.organization_create(user=user, name="Acme", slug="acme")
    response = _admin_change(admin_client, organization, {"name": "Acme", "slug": "acme", "timezone": "Mars/Olympus"})
    assert response.context["adminform"].form.errors["timezone"]
    assert Organization.objects.get().timezone == "Asia/Shanghai"


def test_admin_change_goes_through_the_service_and_is_audited(admin_client, user):
    organization = services.organization_create(user=user, name="Acme", slug="acme")
    response = _admin_change(admin_client, organization, {"name": "Acme Holdings", "slug": "acme"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="organization_changed")
    assert (event.organization, event.changes) == (organization, {"name": {"from": "Acme", "to": "Acme Holdings"}})


def test_calendar_feed_with_an_invisible_name_is_a_form_error_on_the_page(user):
    organization = services.organization_create(user=user, name="Acme", slug="acme")
    client = Client()
    client.force_login(user)
    response = client.post(
        f"/organizations/{organization.pk}/preferences/", {"action": "feed", "name": "\u200b\u200d", "language": "en"}
    )
    assert response.status_code == 200
    assert response.context["feed_form"].errors["name"]
    assert not organization.calendar_feeds.exists()


def test_evidence_date_beyond_the_bounds_is_a_form_error_on_the_page(user):
    organization = services.organization_create(user=user, name="Acme", slug="acme")
    item = ChecklistItem.objects.create(
        organization=organization, obligation=Obligation.objects.first(), applicability="applies"
    )
    client = Client()
    client.force_login(user)
    response = client.post(
        f"/organizations/{organization.pk}/checklist/{item.pk}/",
        {"action": "evidence", "evidence_date": "9999-12-31", "note": "receipt"},
    )
    assert response.status_code == 200
    assert response.context["evidence_form"].errors["evidence_date"]
    assert not item.evidence.exists()


@pytest.mark.parametrize("accept", ["zh-CN", "en"])
def test_date_inputs_carry_iso_dates_in_every_language(user, accept):
    organization = services.organization_create(user=user, name="Acme", slug="acme")
    item = ChecklistItem.objects.create(
        organization=organization, obligation=Obligation.objects.first(), applicability="applies"
    )
    client = Client()
    client.force_login(user)
    page = client.get(f"/organizations/{organization.pk}/checklist/{item.pk}/", HTTP_ACCEPT_LANGUAGE=accept)
    field = re.search(r'<input type="date" name="evidence_date" value="([^"]*)"', page.content.decode())
    assert field and re.fullmatch(r"\d{4}-\d{2}-\d{2}", field.group(1)), field


def test_history_reads_as_sentences_in_the_readers_language(user):
    from obligations.services.checklist import item_update

    organization = services.organization_create(user=user, name="Acme", slug="acme")
    item = ChecklistItem.objects.create(
        organization=organization, obligation=Obligation.objects.first(), applicability="applies"
    )
    item_update(item, actor=user, expected_version=item.version, status="done")
    client = Client()
    client.force_login(user)
    url = f"/organizations/{organization.pk}/checklist/{item.pk}/"
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "ada 将状态从“待办”改为“已完成”。" in chinese
    assert "ada changed status from “Open” to “Done”." in english
    assert "due_date" not in chinese + english and "status:" not in chinese + english


def test_an_undated_item_says_why_in_words(user):
    organization = services.organization_create(user=user, name="Acme", slug="acme")
    obligation = Obligation.objects.filter(deadline__kind="ongoing").first()
    item = ChecklistItem.objects.create(
        organization=organization, obligation=obligation, applicability="applies", due_basis={"pending": "ongoing"}
    )
    client = Client()
    client.force_login(user)
    url = f"/organizations/{organization.pk}/checklist/{item.pk}/"
    assert "(持续性义务)" in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "(a standing duty)" in english and "(ongoing)" not in english


def test_the_answers_an_item_waits_for_are_named_not_keyed(user):
    organization = services.organization_create(user=user, name="Acme", slug="acme")
    waiting = [{"kind": "fact", "key": "enterprise_designations"}, {"kind": "event", "key": "service_launched"}]
    item = ChecklistItem.objects.create(
        organization=organization,
        obligation=Obligation.objects.first(),
        applicability="needs_review",
        waiting_for=waiting,
    )
    client = Client()
    client.force_login(user)
    for url in (
        f"/organizations/{organization.pk}/checklist/{item.pk}/",
        f"/organizations/{organization.pk}/checklist/",
    ):
        chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
        english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "企业资质与认定、服务上线" in chinese
        assert "enterprise designations, Service launched" in english
        assert "enterprise_designations" not in chinese + english and "service_launched" not in chinese + english


def test_checklist_page_queries_do_not_grow_with_waiting_rows(user, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    organization = services.organization_create(user=user, name="Acme", slug="acme")
    client = Client()
    client.force_login(user)
    page = f"/organizations/{organization.pk}/checklist/"
    obligations = iter(Obligation.objects.order_by("id"))

    def add_waiting(n):
        for _ in range(n):
            ChecklistItem.objects.create(
                organization=organization,
                obligation=next(obligations),
                applicability="needs_review",
                waiting_for=[{"kind": "fact", "key": "sectors"}],
            )

    add_waiting(1)
    client.get(page)  # warm the catalogue caches
    with CaptureQueriesContext(connection) as one:
        client.get(page, HTTP_ACCEPT_LANGUAGE="zh-CN")
    add_waiting(20)
    with CaptureQueriesContext(connection) as many:
        client.get(page, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert len(many) == len(one)


def test_checklist_filters_offer_names_and_send_keys(user):
    organization = services.organization_create(user=user, name="Acme", slug="acme")
    obligation = Obligation.objects.get(instrument__code="cn-deep-synthesis-2022", key="art19-filing-file-provider")
    ChecklistItem.objects.create(organization=organization, obligation=obligation, applicability="applies")
    client = Client()
    client.force_login(user)
    page = client.get(f"/organizations/{organization.pk}/checklist/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<option value="cn-deep-synthesis-2022" >深度合成管理规定</option>' in page
    assert f'<option value="{obligation.phase.key}" >{obligation.phase.name_zh}</option>' in page
    filtered = client.get(f"/organizations/{organization.pk}/checklist/", {"phase": obligation.phase.key})
    assert filtered.context["page"].paginator.count == 1


def test_set_aside_rows_and_history_cost_the_same_queries_however_many(user):
    """Why an item was set aside is put into words with the vocabulary's names, looked up once
    per page or response, not once per row or history entry."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from obligations.models import ItemHistory
    from tests.factories import api_client

    organization = services.organization_create(user=user, name="Acme", slug="acme")
    client = Client()
    client.force_login(user)
    api = api_client(user)
    obligations = iter(Obligation.objects.order_by("id"))
    why = {"code": "not_applicable", "reason": {"code": "role_no_match", "params": {"roles": "app_operator"}}}
    first = None

    def add_set_aside(n):
        nonlocal first
        for _ in range(n):
            item = ChecklistItem.objects.create(
                organization=organization,
                obligation=next(obligations),
                applicability="applies",
                superseded_at=timezone.now(),
                superseded_reason=why,
            )
            first = first or item
            ItemHistory.objects.create(
                item=first, action="superseded", context={"cause": {"code": "catalogue"}, "superseded": why}
            )

    base = f"/organizations/{organization.pk}"
    urls = [
        (client, f"{base}/checklist/?superseded=true"),
        (api, f"/api/v1{base}/checklist/?superseded=true"),
        (api, f"/api/v1{base}/checklist/export/?superseded=true"),
    ]

    def counts():
        found = []
        for who, url in [
            *urls,
            (client, f"{base}/checklist/{first.pk}/"),
            (api, f"/api/v1{base}/checklist/{first.pk}/history/"),
        ]:
            with CaptureQueriesContext(connection) as captured:
                assert who.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").status_code == 200
            found.append(len(captured))
        return found

    add_set_aside(1)
    counts()  # warm the catalogue caches
    one = counts()
    add_set_aside(20)
    assert counts() == one, one
