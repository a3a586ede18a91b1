"""A reminder email, as it arrives over SMTP, is in the recipient's language: the subject, the
text and the HTML name each item by its short title, provision and summary, never by a code,
and the Chinese one carries no English sentence."""

import datetime as dt

import pytest

from obligations import services
from obligations.models import Membership
from obligations.services import reminders
from tests.plain import CJK, problems, vocabulary

from .conftest import DUE, at

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_reminder_email_is_words_in_the_recipients_language(team, make_item, smtp, lang):
    membership = Membership.objects.get(user=team["officer"])
    services.reminder_preferences_update(membership, reminder_language=lang)
    items = [make_item(assignee=team["officer"]) for _ in range(3)]
    make_item(assignee=team["officer"], due=DUE - dt.timedelta(days=40))  # overdue by the time of the pass

    assert reminders.dispatch(now=at(DUE - dt.timedelta(days=7)))["sent"] >= 1

    (message,) = [m for m in smtp.messages if m["To"] == "officer@example.com"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    subject = str(message["Subject"]).strip()
    typed = ("Acme", "officer")
    for item in items:
        assert item.obligation.title_in(lang).split("：" if lang == "zh" else ": ")[0] in text
    found = {
        part: problems(body, lang, vocabulary(), typed) for part, body in {"subject": subject, "text": text}.items()
    }
    assert found == {"subject": [], "text": []}
    if lang == "zh":
        assert CJK.search(subject) and CJK.search(html)
