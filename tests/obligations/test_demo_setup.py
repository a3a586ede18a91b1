import pytest
from django.core.management import call_command
from django.http import HttpRequest
from django.utils import timezone

from obligations.models import Membership
from obligations.services import reminders

pytestmark = pytest.mark.django_db


def test_demo_user_printed_by_make_run_can_sign_in_to_the_admin(client, capsys):
    call_command("demo_setup")
    assert "username 'demo' and password 'demo-password-123'" in capsys.readouterr().out
    assert client.login(request=HttpRequest(), username="demo", password="demo-password-123")
    assert client.get("/admin/").status_code == 200
    assert Membership.objects.get(user__username="demo").role == "admin"
    # The demo organization comes with its questionnaire answered, its checklist and a reminder due.
    organization = Membership.objects.get(user__username="demo").organization
    assert organization.profile_versions.count() == 1
    assert organization.checklist_items.filter(superseded_at__isnull=True).count() > 30
    evening = timezone.localtime().replace(hour=23, minute=0)  # after the members' hour
    assert reminders.due_reminders([organization.pk], evening)
    call_command("demo_setup")  # running make run again keeps one user and one membership
    assert Membership.objects.filter(user__username="demo").count() == 1
