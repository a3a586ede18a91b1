"""What the catalogue's reading gives a checklist: a keep-until date for a retention period, a
duty held for review by the curators' open question, a list item shown with its chapeau."""

import pytest
from django.test import Client

from obligations.models import ChecklistItem
from regulations.models import Obligation

from .conftest import at, item_for, report_event, url

pytestmark = pytest.mark.django_db

GUIYANG_EXCHANGE = {
    "roles": ["data_exchange", "data_trading_party", "enterprise"],
    "registered_in": "CN-GZ-GY",
    "operates_in": ["CN-GZ-GY"],
    "data_sourced_in": [],
}
RETENTION = "gz-data-trading-measures-2022:art29-centre-record-retention"  # 保存期限不得少于 20 年
PROCESS = "gz-data-trading-measures-2022:art22-trading-process"  # no modal word: an open question


@pytest.fixture
def exchange(make_user, make_organization, client_for, time_machine):
    time_machine.move_to(at(2025, 3, 20), tick=False)
    admin = make_user("gy-admin")
    organization = make_organization(admin, "Guiyang Exchange", profile=GUIYANG_EXCHANGE)
    return organization, client_for(admin)


def test_a_retention_period_gives_each_trade_a_keep_until_date_and_no_due_date(exchange):
    organization, client = exchange
    waiting = item_for(organization, RETENTION, "")
    assert waiting.due_basis["pending"] == "ongoing" and "keep_until" not in waiting.due_basis
    event_id = report_event(client, organization, "transaction_completed", "2025-03-15")
    item = item_for(organization, RETENTION, f"event:{event_id}")
    assert item.due_date is None  # nothing to do by then, and nothing is reminded
    detail = client.get(url(organization, f"checklist/{item.pk}/"), HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert detail["keep_until"] == "2045-03-15"
    assert detail["keep_explanation"] == [
        "“交易完成”的日期为2025-03-15。",
        "自该日起保存不少于20年，即至少保存至2045-03-15。",
    ]
    browser = Client()
    browser.force_login(organization.memberships.get().user)
    for language, words in (("zh-hans", "至少保存至2045-03-15。"), ("en", "Keep until at least 2045-03-15.")):
        page = browser.get(f"/organizations/{organization.pk}/checklist/{item.pk}/", HTTP_ACCEPT_LANGUAGE=language)
        assert words in page.content.decode()


def test_an_open_question_holds_a_duty_for_review_with_the_question_in_the_readers_language(exchange):
    organization, client = exchange
    item = item_for(organization, PROCESS, "")
    assert item.applicability == ChecklistItem.Applicability.NEEDS_REVIEW
    assert not ChecklistItem.objects.actionable().filter(pk=item.pk).exists()  # never reminded meanwhile
    obligation = Obligation.objects.get(instrument__code="gz-data-trading-measures-2022", key="art22-trading-process")
    for language, question in (("zh-hans", obligation.open_question_zh), ("en", obligation.open_question)):
        detail = client.get(url(organization, f"checklist/{item.pk}/"), HTTP_ACCEPT_LANGUAGE=language).json()
        assert any(question in reason["text"] for reason in detail["reasons"]), detail["reasons"]


def test_a_list_item_is_quoted_with_its_chapeau():
    obligation = Obligation.objects.get(instrument__code="gz-data-trading-measures-2022", key="art16-no-trading-3")
    text = obligation.provision.text
    lead, _, item = obligation.quote_zh.partition("……")
    assert lead and item and lead in text and item in text and text.index(lead) < text.index(item)


def test_the_item_names_the_penalty_for_a_breach(shanghai_item_with_penalty):
    item, client, browser = shanghai_item_with_penalty
    detail = client.get(url(item.organization, f"checklist/{item.pk}/"), HTTP_ACCEPT_LANGUAGE="en").json()
    assert detail["penalty"]["provision"] == "Art. 22"
    page = browser.get(f"/organizations/{item.organization.pk}/checklist/{item.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "违反本项义务的罚则： 第二十二条" in page.content.decode()


@pytest.fixture
def shanghai_item_with_penalty(alice, make_organization, client_for):
    from tests.factories import SHANGHAI_APP

    organization = make_organization(alice, "Acme Penalty", profile=SHANGHAI_APP)
    item = item_for(organization, "cn-deep-synthesis-2022:art7-management-systems", "")
    browser = Client()
    browser.force_login(alice)
    return item, client_for(alice), browser
