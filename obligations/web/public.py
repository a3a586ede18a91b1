"""Pages reached without signing in, where a secret in the URL is the credential: calendar
feeds (calendar programs subscribe to them) and the unsubscribe link of reminder emails."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from .. import services
from ..services import calendar, reminders
from ..wording import django_language


def calendar_feed(request, secret: str):
    """GET /calendar/<secret>.ics: no sign-in, the secret is the credential."""
    feed = calendar.feed_for_secret(secret)
    if feed is None:
        raise Http404("No such calendar feed, or it was revoked.")
    body = calendar.render_feed(feed, base_url=request.build_absolute_uri("/").rstrip("/"), host=request.get_host())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@csrf_exempt  # RFC 8058 one-click: the mail client posts without a session; the token is the credential
def reminders_unsubscribe(request, token: str):
    """The link of a reminder email: in the recipient's reminder language, as the email was."""
    membership = reminders.membership_for_unsubscribe(token)
    if membership is None:
        raise Http404("This unsubscribe link is not valid.")
    done = request.method == "POST"
    if done:
        services.reminder_preferences_update(membership, reminders_enabled=False)
    lang = membership.reminder_language
    with translation.override(django_language(lang)):
        context = {"organization": membership.organization, "done": done, "lang": lang}
        return render(request, "web/unsubscribe.html", context)
