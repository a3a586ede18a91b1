"""The web pages through Django's test client: permissions, CSRF, languages, the questionnaire
and the checklist actions. The browser test covers the same flow in Chromium."""

import re

import pytest
from django.test import Client

from obligations import selectors, services
from obligations.models import ChecklistItem, Membership
from obligations.services import checklist

pytestmark = pytest.mark.django_db

PROFILE = {
    "roles": ["app_operator", "deep_synthesis_provider"],
    "registered_in": "CN-SH-LG",
    "operates_in": ["CN-SH"],
    "data_sourced_in": [],
    "features": ["biometric_editing", "public_opinion_attributes"],
    "sectors": [],
}


@pytest.fixture
def people(django_user_model):
    admin = django_user_model.objects.create_user("ada", "ada@example.com", "pw-ada-123")
    viewer = django_user_model.objects.create_user("vic", "vic@example.com", "pw-vic-123")
    outsider = django_user_model.objects.create_user("otto", "otto@example.com", "pw-otto-123")
    organization = services.organization_create(user=admin, name="Acme", slug="acme", timezone_name="Asia/Shanghai")
    Membership.objects.create(organization=organization, user=viewer, role=Membership.Role.VIEWER)
    services.profile_update(organization=organization, answers=PROFILE, unset=[], replace=True, changed_by=admin)
    return {"admin": admin, "viewer": viewer, "outsider": outsider, "organization": organization}


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def selectors_today(organization) -> str:
    return checklist.organization_today(organization).isoformat()


def pages(organization, item):
    base = f"/organizations/{organization.pk}/"
    return [base, base + "checklist/", base + f"checklist/{item.pk}/", base + "profile/", base + "preferences/"]


def test_pages_need_sign_in_and_membership(people, settings):
    settings.DEBUG = True  # static files without collectstatic
    organization = people["organization"]
    item = ChecklistItem.objects.filter(organization=organization).first()
    for url in pages(organization, item):
        assert Client().get(url).status_code == 302  # to the sign-in page
        assert signed_in(people["outsider"]).get(url).status_code == 404
        assert signed_in(people["admin"]).get(url).status_code == 200
    assert Client().get("/catalog/").status_code == 200  # the law is public


def test_viewers_cannot_change_anything(people, settings):
    settings.DEBUG = True
    organization = people["organization"]
    item = ChecklistItem.objects.filter(organization=organization).first()
    viewer = signed_in(people["viewer"])
    base = f"/organizations/{organization.pk}/"
    posts = [
        (base + f"checklist/{item.pk}/status/", {"version": item.version, "status": "done"}),
        (base + f"checklist/{item.pk}/", {"action": "update", "version": item.version, "status": "done"}),
        (base + "profile/", {"unknown-roles": "1"}),
    ]
    for url, data in posts:
        assert viewer.post(url, data).status_code == 403
    item.refresh_from_db()
    assert item.status == "open"
    assert "/status/" not in viewer.get(base + "checklist/").content.decode()  # no buttons for viewers


def test_forms_are_csrf_protected(people, settings):
    settings.DEBUG = True
    organization = people["organization"]
    item = ChecklistItem.objects.filter(organization=organization).first()
    client = signed_in(people["admin"], enforce_csrf_checks=True)
    response = client.post(f"/organizations/{organization.pk}/checklist/{item.pk}/status/", {"status": "done"})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.status == "open"


def test_ticking_an_item_off_with_htmx_returns_the_row_and_records_history(people, settings):
    settings.DEBUG = True
    organization = people["organization"]
    item = ChecklistItem.objects.filter(organization=organization, superseded_at__isnull=True).first()
    client = signed_in(people["admin"])
    url = f"/organizations/{organization.pk}/checklist/{item.pk}/status/"
    response = client.post(url, {"version": item.version, "status": "done"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="item-{item.pk}">') and 'data-status="done"' in html
    item.refresh_from_db()
    assert (item.status, item.completed_by) == ("done", people["admin"])
    stale = client.post(url, {"version": item.version - 1, "status": "open"}, HTTP_HX_REQUEST="true")
    assert "Someone changed this item" in stale.content.decode()
    item.refresh_from_db()
    assert item.status == "done"


def test_not_applicable_needs_a_justification_on_the_item_page(people, settings):
    settings.DEBUG = True
    organization = people["organization"]
    item = ChecklistItem.objects.filter(organization=organization, superseded_at__isnull=True).first()
    client = signed_in(people["admin"])
    url = f"/organizations/{organization.pk}/checklist/{item.pk}/"
    data = {"action": "update", "version": item.version, "status": "not_applicable", "justification": ""}
    response = client.post(url, data)
    assert response.status_code == 200 and "Say why the item does not apply" in response.content.decode()
    response = client.post(url, {**data, "justification": "We run no such service."})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.justification) == ("not_applicable", "We run no such service.")


def test_questionnaire_saves_answers_and_unknowns_and_names_bad_answers(people, settings):
    settings.DEBUG = True
    organization = people["organization"]
    client = signed_in(people["admin"])
    url = f"/organizations/{organization.pk}/profile/"
    bad = client.post(url, {"employees": "many", "unknown-roles": "1"})
    assert bad.status_code == 200 and "Must be a number." in bad.content.decode()
    assert selectors.profile_current(organization).number == 1  # nothing saved
    good = client.post(
        url,
        {
            "roles": ["app_operator"],
            "registered_in": "CN-SH-LG",
            "operates_in": ["CN-SH"],
            "data_sourced_in": [],
            "features": ["biometric_editing"],
            "employees": "120",
            **{f"unknown-{key}": "1" for key in ("sectors", "ownership", "annual_revenue_cny")},
        },
    )
    assert good.status_code == 302
    answers = selectors.profile_current(organization).answers
    assert answers["roles"] == ["app_operator"] and answers["employees"] == 120
    assert "sectors" not in answers and answers["data_sourced_in"] == []

    # "Biometric editing, and not sure about the rest": the ticked ones, the others left open.
    partly = client.post(url, {"features": ["biometric_editing"], "partial-features": "1", "unknown-roles": "1"})
    assert partly.status_code == 302
    assert selectors.profile_current(organization).answers["features"] == {"includes": ["biometric_editing"]}
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="partial-features" value="1" checked' in page
    assert 'name="features" value="biometric_editing" checked' in page


def test_pages_follow_the_browser_language_and_the_switch(people, settings):
    settings.DEBUG = True
    client = signed_in(people["admin"])
    url = f"/organizations/{people['organization'].pk}/"
    assert "概览" in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "Dashboard" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": url})
    assert "概览" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_checklist_page_searches_and_names_a_bad_field_in_the_readers_words(people):
    organization = people["organization"]
    client = signed_in(people["admin"], HTTP_ACCEPT_LANGUAGE="zh-hans")
    base = f"/organizations/{organization.pk}/checklist/"
    every = ChecklistItem.objects.filter(organization=organization).current().duties()

    def seen(item) -> str:
        o, i = item.obligation, item.obligation.instrument
        return " ".join([o.summary_zh, o.summary_en, o.quote_zh, o.provision.label, i.title_zh, i.title_en,
                         i.short_title_zh, i.short_title_en])  # fmt: skip

    items = list(every.select_related("obligation__instrument", "obligation__provision"))
    matching = {i.pk for i in items if "深度合成" in seen(i) and "标识" in seen(i)}
    assert 0 < len(matching) < len(items)

    page = client.get(base, {"q": "深度合成 标识"}).content.decode()
    assert 'name="q" value="深度合成 标识"' in page  # the search stays in the form and the URL
    assert set(map(int, re.findall(r'href="/organizations/\d+/checklist/(\d+)/"', page))) == matching
    # The filter form sends its empty choices too: they mean "any", not a wrong choice.
    empty = dict.fromkeys(("status", "phase", "instrument", "kind", "assignee", "due_before", "overdue"), "")
    page = client.get(base, {"q": "深度合成 标识", **empty}).content.decode()
    assert set(map(int, re.findall(r'href="/organizations/\d+/checklist/(\d+)/"', page))) == matching
    links = re.findall(r'<a href="([^"]*(?:ordering=|export/)[^"]*)"', page)  # sort and download links
    assert links and not any("status=&amp;" in link for link in links)  # nor do they follow into them

    page = client.get(base, {"q": "备" * 201, "due_before": "someday"}).content.decode()
    assert re.search(r"<li>搜索[：:]", page) and re.search(r"<li>到期日不晚于[：:]", page)
    assert "<li>q:" not in page and "<li>due_before:" not in page


def test_checklist_page_sorts_by_its_column_headers_and_keeps_the_filters(people):
    organization = people["organization"]
    client = signed_in(people["admin"], HTTP_ACCEPT_LANGUAGE="en")
    base = f"/organizations/{organization.pk}/checklist/"
    page = client.get(base, {"status": "open"}).content.decode()
    # By due date by default; each header links to its order, the filter kept.
    assert 'aria-sort="ascending"><a href="?status=open&amp;ordering=-due_date">' in page
    assert 'aria-sort="none"><a href="?status=open&amp;ordering=status">' in page
    page = client.get(base, {"status": "open", "ordering": "-status"}).content.decode()
    assert 'aria-sort="descending"><a href="?status=open&amp;ordering=status">' in page
    page = client.get(base, {"ordering": "phase"}).content.decode()
    shown = [int(pk) for pk in re.findall(r'href="/organizations/\d+/checklist/(\d+)/"', page)]
    items = ChecklistItem.objects.filter(pk__in=shown).select_related("obligation")
    by_pk = {i.pk: (i.obligation.phase_id, i.pk) for i in items}
    assert [by_pk[pk] for pk in shown] == sorted(by_pk[pk] for pk in shown)
    assert "The list cannot be ordered by “bogus”." in client.get(base, {"ordering": "bogus"}).content.decode()


def test_checklist_page_changes_the_selected_items_at_once(people):
    organization, admin = people["organization"], people["admin"]
    client = signed_in(admin, HTTP_ACCEPT_LANGUAGE="zh-hans")
    base = f"/organizations/{organization.pk}/checklist/"
    items = list(ChecklistItem.objects.filter(organization=organization).current().duties().order_by("pk")[:3])
    page = client.get(base, {"status": "open"}).content.decode()
    for item in items:
        assert f'value="{item.pk}:{item.version}" form="bulk"' in page
    selected = [f"{i.pk}:{i.version}" for i in items]

    # Not applicable without a reason: named in the reader's words, nothing changes.
    response = client.post(base + "bulk/", {"items": selected, "status": "not_applicable", "query": "status=open"})
    assert response.status_code == 302 and response["Location"] == base + "?status=open"
    page = client.get(response["Location"]).content.decode()
    assert re.search(r"不适用的理由[：:] ?请说明这些事项不适用的理由。", page)
    assert [ChecklistItem.objects.get(pk=i.pk).version for i in items] == [i.version for i in items]

    response = client.post(
        base + "bulk/",
        {"items": selected, "status": "not_applicable", "justification": "不提供新闻服务。", "assignee": str(admin.pk)},
    )
    assert response.status_code == 302
    assert "已更改 3 个事项。" in client.get(response["Location"]).content.decode()
    for item in items:
        row = ChecklistItem.objects.get(pk=item.pk)
        assert (row.status, row.justification, row.assignee, row.version) == (
            "not_applicable",
            "不提供新闻服务。",
            admin,
            item.version + 1,
        )
        assert row.history.filter(action="updated", actor=admin).count() == 1

    # The page as it was before: stale versions change nothing and say so.
    response = client.post(base + "bulk/", {"items": selected, "status": "open"})
    assert "未作任何更改" in client.get(response["Location"]).content.decode()
    assert {ChecklistItem.objects.get(pk=i.pk).status for i in items} == {"not_applicable"}
    # A viewer sees no selection and may not post one.
    viewer = signed_in(people["viewer"])
    assert 'form="bulk"' not in viewer.get(base).content.decode()
    fresh = [f"{i.pk}:{ChecklistItem.objects.get(pk=i.pk).version}" for i in items]
    assert viewer.post(base + "bulk/", {"items": fresh, "status": "open"}).status_code == 403
    assert {ChecklistItem.objects.get(pk=i.pk).status for i in items} == {"not_applicable"}


def test_checklist_page_downloads_carry_its_filters_and_language(people):
    organization = people["organization"]
    client = signed_in(people["viewer"], HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = client.get(f"/organizations/{organization.pk}/checklist/", {"q": "深度合成", "ordering": "status"})
    links = re.findall(r'href="(/api/v1/organizations/\d+/checklist/export/[^"]*)" download', page.content.decode())
    assert len(links) == 2
    xlsx = links[0].replace("&amp;", "&")
    assert "q=%E6%B7%B1%E5%BA%A6%E5%90%88%E6%88%90" in xlsx and "ordering=status" in xlsx and "lang=zh" in xlsx
    response = client.get(xlsx)  # the signed-in session is enough, and a viewer may download
    assert response.status_code == 200 and response["Content-Disposition"].endswith('-zh.xlsx"')
    csv_text = client.get(links[1].replace("&amp;", "&")).content.decode("utf-8-sig")
    assert csv_text.startswith("事项") and "深度合成" in csv_text
    # The PDF is asked for with the same filters, and made in the background.
    assert re.search(r'name="query" value="[^"]*ordering=status[^"]*"', page.content.decode())


def test_audit_pack_page_downloads_the_chosen_file_and_names_a_bad_date(people):
    organization = people["organization"]
    client = signed_in(people["viewer"], HTTP_ACCEPT_LANGUAGE="zh-hans")
    base = f"/organizations/{organization.pk}/audit-pack/"
    page = client.get(base).content.decode()
    assert 'type="date"' in page and 'value="pdf"' in page and "审计材料包" in page
    today = selectors_today(organization)
    response = client.get(base, {"as_of": today, "lang": "en", "file": "xlsx"})
    assert response["Content-Disposition"] == f'attachment; filename="audit-pack-acme-{today}-en.xlsx"'
    page = client.get(base, {"as_of": "2001-01-01", "lang": "zh", "file": "xlsx"})
    assert page.status_code == 200 and "组织于" in page.content.decode()  # on the form, in words, no file
    assert "Content-Disposition" not in page
