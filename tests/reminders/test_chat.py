"""Reminders in chat groups, against a real HTTP server that checks each vendor's documented
request format and signature the way the vendor does (written here from the vendors' documents,
independently of the service's code) and answers as the vendor answers."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from obligations.models import Delivery, Membership, ReminderDigest
from obligations.services import outbound, reminders
from tests.factories import ChecklistItemFactory, api_client

from .conftest import DUE, at

DINGTALK_SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
FEISHU_SECRET = "feishu-bot-secret"
WECOM_LIMIT = 4096


def _b64_hmac(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def wecom(request) -> tuple[int, str]:
    """WeCom group robot: POST .../webhook/send?key=..., {"msgtype": "markdown", "markdown":
    {"content"}}, content at most 4096 bytes of UTF-8."""
    query = parse_qs(urlsplit(request["path"]).query)
    body = json.loads(request["body"])
    content = body.get("markdown", {}).get("content")
    if "key" not in query or body.get("msgtype") != "markdown" or not isinstance(content, str):
        return 200, '{"errcode": 40008, "errmsg": "invalid message type"}'
    if len(content.encode()) > WECOM_LIMIT:
        return 200, '{"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}'
    return 200, '{"errcode": 0, "errmsg": "ok"}'


def dingtalk(secret: str):
    """DingTalk custom robot with 加签: the URL carries timestamp (ms, within an hour) and
    sign = urlencode(Base64(HMAC-SHA256(secret, timestamp + "\\n" + secret)))."""

    def check(request) -> tuple[int, str]:
        query = parse_qs(urlsplit(request["path"]).query)
        stamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
        if "access_token" not in query or not stamp.isdigit() or abs(int(stamp) / 1000 - time.time()) > 3600:
            return 200, '{"errcode": 310000, "errmsg": "invalid timestamp"}'
        if sign != _b64_hmac(secret.encode(), f"{stamp}\n{secret}".encode()):
            return 200, '{"errcode": 310000, "errmsg": "sign not match"}'
        body = json.loads(request["body"])
        markdown = body.get("markdown", {})
        if body.get("msgtype") != "markdown" or not markdown.get("title") or not markdown.get("text"):
            return 200, '{"errcode": 40035, "errmsg": "missing parameter"}'
        return 200, '{"errcode": 0, "errmsg": "ok"}'

    return check


def feishu(secret: str):
    """Feishu custom bot with signature verification: the body carries timestamp (s, within an
    hour) and sign = Base64(HMAC-SHA256(key = timestamp + "\\n" + secret, empty message))."""

    def check(request) -> tuple[int, str]:
        body = json.loads(request["body"])
        stamp, sign = str(body.get("timestamp", "")), body.get("sign")
        if not stamp.isdigit() or abs(int(stamp) - time.time()) > 3600:
            return 200, '{"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}'
        if sign != _b64_hmac(f"{stamp}\n{secret}".encode(), b""):
            return 200, '{"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}'
        card = body.get("card", {})
        if body.get("msg_type") != "interactive" or card.get("elements", [{}])[0].get("tag") != "markdown":
            return 200, '{"code": 9499, "msg": "Bad Request"}'
        return 200, '{"code": 0, "msg": "success", "data": {}}'

    return check


@pytest.fixture
def vendors(receiver):
    """One server for the three vendors, told apart by path."""
    checks = {"/wecom": wecom, "/dingtalk": dingtalk(DINGTALK_SECRET), "/feishu": feishu(FEISHU_SECRET)}
    receiver.check = lambda request: checks[urlsplit(request["path"]).path](request)
    return receiver


def messages(receiver, path: str) -> list[dict]:
    return [json.loads(r["body"]) for r in receiver.requests if urlsplit(r["path"]).path == path]


def text_of(vendor: str, body: dict) -> str:
    if vendor == "wecom":
        return body["markdown"]["content"]
    if vendor == "dingtalk":
        return body["markdown"]["text"]
    return body["card"]["header"]["title"]["content"] + "\n" + body["card"]["elements"][0]["content"]


def add_robots(team, vendors, language: str = "zh") -> None:
    client = api_client(team["admin"])
    url = f"/api/v1/organizations/{team['organization'].pk}/endpoints/"
    robots = [
        {"kind": "wecom", "url": f"{vendors.url}/wecom?key=abc"},
        {"kind": "dingtalk", "url": f"{vendors.url}/dingtalk?access_token=abc", "secret": DINGTALK_SECRET},
        {"kind": "feishu", "url": f"{vendors.url}/feishu", "secret": FEISHU_SECRET},
    ]
    for robot in robots:
        body = {**robot, "language": language, "events": ["item.due_soon", "item.overdue"]}
        response = client.post(url, body, format="json")
        assert response.status_code == 201, response.content


def test_group_robots_get_one_message_each_in_their_format_once(team, make_item, vendors):
    add_robots(team, vendors)
    soon, late = make_item(), make_item(due=DUE - dt.timedelta(days=10))
    now = at(DUE - dt.timedelta(days=7), hour=10)
    reminders.dispatch(now=now)
    assert outbound.deliver(now=now) == {"delivered": 6, "retry": 0, "failed": 0}  # 2 events to 3 robots, in 3 posts
    for vendor in ("wecom", "dingtalk", "feishu"):
        [body] = messages(vendors, f"/{vendor}")
        text = text_of(vendor, body)
        assert "[Acme] 1 项义务已逾期，1 项义务即将到期" in text
        assert soon.obligation.title_in("zh") in text
        assert late.obligation.title_in("zh") in text
        assert "还剩 7 天" in text and "逾期 3 天" in text
        assert f"/organizations/{team['organization'].pk}/checklist/{soon.pk}/" in text
    assert len(vendors.requests) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}

    reminders.dispatch(now=now + dt.timedelta(hours=3))  # the same points: nothing new to tell
    outbound.deliver(now=now + dt.timedelta(hours=3))
    assert len(vendors.requests) == 3


def test_a_robot_that_refuses_the_signature_is_retried(team, make_item, vendors):
    client = api_client(team["admin"])
    response = client.post(
        f"/api/v1/organizations/{team['organization'].pk}/endpoints/",
        {"kind": "dingtalk", "url": f"{vendors.url}/dingtalk?access_token=abc", "secret": "SECwrong"},
        format="json",
    )
    assert response.status_code == 201
    make_item()
    now = at(DUE - dt.timedelta(days=7), hour=10)
    reminders.dispatch(now=now)
    assert outbound.deliver(now=now) == {"delivered": 0, "retry": 1, "failed": 0}
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.response_status) == ("pending", 200)
    assert delivery.last_error == "code 310000: sign not match"


def test_robot_messages_in_english(team, make_item, vendors):
    add_robots(team, vendors, language="en")
    item = make_item()
    now = at(DUE - dt.timedelta(days=7), hour=10)
    reminders.dispatch(now=now)
    outbound.deliver(now=now)
    text = text_of("feishu", messages(vendors, "/feishu")[0])
    assert "[Acme] 1 obligation due soon" in text
    assert item.obligation.title_in("en") in text
    assert "7 days left" in text
    assert "[Open](" in text


def test_a_long_message_fits_wecoms_limit_and_says_what_was_left_out(team, vendors):
    add_robots(team, vendors)
    for _ in range(60):
        ChecklistItemFactory(organization=team["organization"], due_date=DUE)
    now = at(DUE - dt.timedelta(days=7), hour=10)
    reminders.dispatch(now=now)
    outbound.deliver(now=now)
    # 60 events in batches of 50: two messages, the first cut to WeCom's limit with a count of the rest.
    first, second = messages(vendors, "/wecom")
    content = first["markdown"]["content"]
    assert len(content.encode()) <= WECOM_LIMIT
    assert content.rstrip().endswith("项请在清单页查看。")
    assert len(second["markdown"]["content"].encode()) <= WECOM_LIMIT
    assert Delivery.objects.filter(endpoint__kind="wecom", status="delivered").count() == 60


def test_a_member_gets_their_digest_in_their_robot_instead_of_email(team, make_item, vendors, smtp):
    officer = team["officer"]
    client = api_client(officer)
    url = f"/api/v1/organizations/{team['organization'].pk}/preferences/"
    response = client.patch(
        url,
        {"reminder_channel": "dingtalk", "reminder_chat_url": f"{vendors.url}/dingtalk?access_token=me",
         "reminder_chat_secret": DINGTALK_SECRET},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert "reminder_chat_secret" not in response.json()
    item = make_item(assignee=officer)
    now = at(DUE - dt.timedelta(days=7), hour=10)
    reminders.dispatch(now=now)

    [body] = messages(vendors, "/dingtalk")
    assert body["markdown"]["title"] == "[Acme] 1 项义务即将到期"
    assert item.obligation.reference_in("zh") in body["markdown"]["text"]
    assert "还剩 7 天" in body["markdown"]["text"]
    assert [m["To"] for m in smtp.messages] == []  # the assignee's reminder went to the robot only
    digest = ReminderDigest.objects.get(recipient=officer)
    assert (digest.status, digest.subject) == ("sent", "[Acme] 1 项义务即将到期")

    reminders.dispatch(now=now + dt.timedelta(hours=2))  # once: the ledger holds it
    assert len(messages(vendors, "/dingtalk")) == 1


def test_a_robot_channel_needs_its_address(team):
    client = api_client(team["officer"])
    url = f"/api/v1/organizations/{team['organization'].pk}/preferences/"
    response = client.patch(url, {"reminder_channel": "feishu"}, format="json")
    assert response.status_code == 400
    assert "reminder_chat_url" in response.json()
    assert Membership.objects.get(user=team["officer"]).reminder_channel == "email"
