"""Rate limits: public endpoints per address, token creation, invitation codes, and sign-in
attempts per username and address. Each test turns on only the limit it checks, with counters
in a private cache; time_machine moves past the window."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from obligations import services
from obligations.models import ApiToken, Membership
from tests.factories import password_for

pytestmark = pytest.mark.django_db

DEADLINE = {"start": "2023-09-20", "amount": 20, "unit": "working_days", "direction": "after"}


def assert_throttled(response) -> None:
    assert response.status_code == 429, response.content
    assert "throttled" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0


def test_anonymous_deadline_computation_is_limited_per_address(api, rates):
    rates(anon="3/min")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        answers = [api.post("/api/v1/deadlines/compute", DEADLINE, format="json") for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 200]
        assert_throttled(api.post("/api/v1/deadlines/compute", DEADLINE, format="json"))
        # Another address has its own allowance.
        assert api.post("/api/v1/deadlines/compute", DEADLINE, format="json", REMOTE_ADDR="10.1.2.3").status_code == 200

        traveller.shift(dt.timedelta(seconds=61))
        assert api.post("/api/v1/deadlines/compute", DEADLINE, format="json").status_code == 200


def test_token_creation_is_limited_but_listing_is_not(world, rates):
    rates(tokens="2/min")
    api = world.api
    before = ApiToken.objects.count()

    created = [api.post("/api/v1/tokens/", {"name": f"script {n}"}, format="json") for n in range(2)]

    assert [r.status_code for r in created] == [201, 201]
    assert_throttled(api.post("/api/v1/tokens/", {"name": "one too many"}, format="json"))
    assert ApiToken.objects.count() == before + 2
    assert [api.get("/api/v1/tokens/").status_code for _ in range(4)] == [200] * 4


def test_invitation_codes_cannot_be_guessed_at_speed(world, rates, make_user):
    rates(invitations="2/min")
    guesser = make_user("guesser")
    api = Client()
    api.force_login(guesser)
    guesses = [
        api.post("/api/v1/invitations/accept/", {"token": f"inv_guess{n}"}, content_type="application/json")
        for n in range(2)
    ]
    assert [r.status_code for r in guesses] == [400, 400]

    # Once the limit is reached even a right code is refused, so guessing cannot go on.
    _, secret = services.invitation_create(
        organization=world.organization, email="guesser@example.com", role="officer", invited_by=world.admin
    )
    response = api.post("/api/v1/invitations/accept/", {"token": secret}, content_type="application/json")
    assert_throttled(response)
    assert not Membership.objects.filter(user=guesser).exists()


def test_sign_in_is_refused_after_ten_failures_for_that_username_and_address(rates, make_user):
    rates()
    user = make_user("officer")
    wrong = {"username": "officer", "password": "not-the-password"}
    right = {"username": "officer", "password": password_for("officer")}

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        failures = [Client().post("/accounts/login/", wrong) for _ in range(10)]
        # django-axes answers the tenth failure itself with the lockout.
        assert [r.status_code for r in failures] == [200] * 9 + [429]
        assert all(b"did not match" in r.content for r in failures[:9])

        locked = Client().post("/accounts/login/", right)  # even the right password
        assert locked.status_code == 429
        assert b"Too many failed sign-in attempts" in locked.content
        assert "_auth_user_id" not in locked.wsgi_request.session

        # The count is per username and address: the same user elsewhere, or another user here.
        assert Client().post("/accounts/login/", right, REMOTE_ADDR="10.9.8.7").status_code == 302
        make_user("colleague")
        colleague = {"username": "colleague", "password": password_for("colleague")}
        assert Client().post("/accounts/login/", colleague).status_code == 302

        traveller.shift(dt.timedelta(minutes=14))
        assert Client().post("/accounts/login/", right).status_code == 429
        traveller.shift(dt.timedelta(minutes=2))
        signed_in = Client().post("/accounts/login/", right)
        assert signed_in.status_code == 302
        assert signed_in.wsgi_request.session["_auth_user_id"] == str(user.pk)
