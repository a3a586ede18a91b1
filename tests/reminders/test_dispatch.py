"""A reminder pass against a real SMTP server: digests, catch-up, retries, no duplicates."""

import datetime as dt
import threading

import pytest
from django.db import connections, transaction

from config.links import absolute
from obligations.models import Reminder, ReminderDigest
from obligations.services import checklist, reminders

from .conftest import DUE, at

pytestmark = pytest.mark.django_db

WEEK_BEFORE = at(DUE - dt.timedelta(days=7))


def subject(message) -> str:
    # Python folds a subject that starts with an encoded word onto a continuation line, which
    # parses back with a leading space.
    return str(message["Subject"]).strip()


def test_due_reminders_go_out_as_one_digest_per_recipient_once(team, make_item, smtp):
    first = make_item(assignee=team["officer"])
    make_item(assignee=team["officer"])
    assert reminders.dispatch(now=at(DUE - dt.timedelta(days=30)))["sent"] == 1  # the 30-day reminders
    assert reminders.dispatch(now=WEEK_BEFORE - dt.timedelta(minutes=1))["sent"] == 0  # not yet
    totals = reminders.dispatch(now=WEEK_BEFORE)
    assert (totals["reminders"], totals["sent"]) == (2, 1)
    message = smtp.messages[-1]
    assert message["To"] == "officer@example.com"
    assert subject(message) == "[Acme] 2 项义务即将到期"  # members read Chinese by default
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "2027-03-15 (星期一)" in text and "还剩 7 天" in text and "<ul>" in html
    assert absolute("web-item", team["organization"].pk, first.pk) in text  # each item's own page
    assert str(message["List-Unsubscribe"]).strip().startswith("<http://")
    assert reminders.dispatch(now=WEEK_BEFORE + dt.timedelta(hours=1))["sent"] == 0
    assert len(smtp.messages) == 2


def test_english_and_immediate_delivery_follow_the_member_preferences(team, make_item, smtp):
    from obligations import services
    from obligations.models import Membership

    membership = Membership.objects.get(user=team["officer"])
    services.reminder_preferences_update(membership, reminder_language="en", reminder_delivery="immediate")
    make_item(assignee=team["officer"])
    make_item(assignee=team["officer"])
    reminders.dispatch(now=at(DUE - dt.timedelta(days=30)))
    # Immediate: at once when due, the items due at the same moment in one email.
    assert [subject(m) for m in smtp.messages] == ["[Acme] 2 obligations due soon"]


def test_a_day_of_downtime_is_caught_up_once_and_marked_late(team, make_item, smtp):
    item = make_item(assignee=team["officer"])
    reminders.dispatch(now=at(DUE - dt.timedelta(days=30)))
    smtp.messages.clear()
    a_day_later = WEEK_BEFORE + dt.timedelta(days=1)
    assert reminders.dispatch(now=a_day_later)["sent"] == 1
    reminder = Reminder.objects.get(item=item, kind="before", offset_days=-7, recipient=team["officer"])
    assert (reminder.status, reminder.late) == (Reminder.Status.SENT, True)
    assert "延迟发送" in smtp.messages[0].get_body(("plain",)).get_content()
    assert reminders.dispatch(now=a_day_later + dt.timedelta(hours=2))["sent"] == 0
    assert len(smtp.messages) == 1


def test_a_completed_item_is_never_reminded(team, make_item, smtp):
    done_early = make_item(assignee=team["officer"])
    checklist.item_update(done_early, actor=team["officer"], expected_version=done_early.version, status="done")
    done_after_assembly = make_item(assignee=team["officer"])
    with transaction.atomic():  # queued into a digest, then finished before delivery
        reminders.assemble([team["organization"].pk], now=WEEK_BEFORE)
    done_after_assembly.refresh_from_db()
    checklist.item_update(
        done_after_assembly, actor=team["officer"], expected_version=done_after_assembly.version, status="done"
    )
    totals = reminders.dispatch(now=WEEK_BEFORE)
    assert totals["sent"] == 0 and smtp.messages == []
    assert Reminder.objects.filter(item=done_after_assembly, status=Reminder.Status.DROPPED).exists()
    assert not Reminder.objects.filter(status=Reminder.Status.SENT).exists()


def test_smtp_refusals_are_retried_with_backoff_on_the_same_message(team, make_item, smtp):
    make_item(assignee=team["officer"])  # of its reminders, the latest that has come: 7 days before
    smtp.refuse = 2
    assert reminders.dispatch(now=WEEK_BEFORE)["retry"] == 1
    digest = ReminderDigest.objects.get()
    assert (digest.attempts, digest.next_attempt_at) == (1, WEEK_BEFORE + dt.timedelta(minutes=1))
    assert "451" in digest.last_error
    assert reminders.dispatch(now=WEEK_BEFORE + dt.timedelta(seconds=30))["retry"] == 0  # backing off
    assert reminders.dispatch(now=WEEK_BEFORE + dt.timedelta(minutes=1))["retry"] == 1
    assert reminders.dispatch(now=WEEK_BEFORE + dt.timedelta(minutes=3))["sent"] == 1
    digest.refresh_from_db()
    assert (digest.status, digest.attempts) == (ReminderDigest.Status.SENT, 3)
    assert smtp.message_ids() == [digest.message_id]


def test_an_overdue_item_is_reminded_every_week_and_escalated(team, make_item, smtp):
    make_item(assignee=team["officer"])
    week_late = at(DUE + dt.timedelta(days=7))
    reminders.dispatch(now=week_late)
    recipients = sorted(m["To"] for m in smtp.messages)
    # The officer's first overdue reminder (one email, not one per point missed) and the
    # admins' escalation.
    assert recipients == ["admin@example.com", "officer@example.com"]
    escalation = next(m for m in smtp.messages if m["To"] == "admin@example.com")
    assert subject(escalation) == "【升级提醒】 [Acme] 1 项义务已逾期"
    assert "【已升级】" in escalation.get_body(("plain",)).get_content()
    officer_digest = next(m for m in smtp.messages if m["To"] == "officer@example.com")
    assert subject(officer_digest) == "[Acme] 1 项义务已逾期"
    assert "【已升级】" not in officer_digest.get_body(("plain",)).get_content()
    # Unsubscribing stops reminders; the link is in every email, escalations included.
    assert escalation["List-Unsubscribe"] is not None and officer_digest["List-Unsubscribe"] is not None
    assert Reminder.objects.filter(recipient=team["officer"]).values_list("kind", "offset_days").get() == ("overdue", 7)
    assert reminders.dispatch(now=at(DUE + dt.timedelta(days=13)))["sent"] == 0
    assert reminders.dispatch(now=at(DUE + dt.timedelta(days=14)))["sent"] == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_overlapping_passes_send_each_digest_once(postgres, team, make_item, make_user, add_member, smtp):
    for n in range(12):
        user = make_user(f"member{n}")
        add_member(team["organization"], user)
        make_item(assignee=user)
        make_item(assignee=user)
    start = threading.Barrier(2)
    results = []

    def run():
        try:
            start.wait()
            results.append(reminders.dispatch(now=WEEK_BEFORE, chunk=5))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sum(r["sent"] for r in results) == 12
    recipients = sorted(m["To"] for m in smtp.messages)
    assert recipients == sorted(f"member{n}@example.com" for n in range(12))
    assert len(set(smtp.message_ids())) == 12
    assert Reminder.objects.filter(status=Reminder.Status.SENT).count() == 24


@pytest.mark.parametrize(
    ("language", "question", "answer"),
    [
        ("zh", "停止接收本组织的截止日期提醒？", "您将不再收到本组织的截止日期提醒。"),
        ("en", "Stop deadline reminders from this organization?", "You will no longer receive deadline reminders"),
    ],
)
def test_unsubscribe_page_speaks_the_recipients_language(team, language, question, answer):
    from django.test import Client

    from obligations.models import Membership

    membership = Membership.objects.get(user=team["officer"])
    membership.reminder_language = language
    membership.save()
    link = f"/reminders/unsubscribe/{reminders.unsubscribe_token(membership)}/"
    page = Client().get(link, HTTP_ACCEPT_LANGUAGE="en" if language == "zh" else "zh-CN")
    assert page.status_code == 200 and question in page.content.decode()
    done = Client().post(link)
    assert done.status_code == 200 and answer in done.content.decode()
    membership.refresh_from_db()
    assert membership.reminders_enabled is False


def test_a_mail_server_that_cannot_be_reached_leaves_each_digest_to_its_retry(team, make_item, settings):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    make_item(assignee=team["officer"])
    make_item(assignee=team["admin"])
    totals = reminders.dispatch(now=WEEK_BEFORE)
    assert (totals["sent"], totals["retry"]) == (0, 2)
    assert set(ReminderDigest.objects.values_list("status", "attempts")) == {("pending", 1)}
