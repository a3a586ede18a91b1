"""Single sign-on with an OpenID Connect provider (mozilla-django-oidc): whom the provider's
email address names here, and what a refused sign-in shows.

The provider vouches for who a person is; membership here says what they may see. So the email
address the provider gives, verified, must name exactly one active account that belongs to an
organization, or an operator's account (operators work in the admin, often in none). Accounts
are made by invitations, never by signing in; and a person removed from every organization does
not get back in because the company's directory still lists them."""

import logging

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

from .models import Membership

logger = logging.getLogger(__name__)


def sign_in_options() -> dict:
    """What the sign-in page offers this deployment: a password form, single sign-on, or both."""
    return {
        "password_sign_in": settings.PASSWORD_SIGN_IN,
        "single_sign_on": settings.SINGLE_SIGN_ON,
        "provider_name": settings.OIDC_PROVIDER_NAME,
    }


class MemberBackend(OIDCAuthenticationBackend):
    """Signs in the member whose email address the provider has verified; refuses anyone else,
    leaving the reason on the request for ``CallbackView`` to show."""

    # ModelBackend's: it also ends the session of an account made inactive, which the library's does not.
    get_user = ModelBackend.get_user

    def authenticate(self, request, **credentials):
        # Only CallbackView passes a nonce, once it has checked the state against the session: a
        # code put in the address of another sign-in form must not be exchanged.
        if request is None or "nonce" not in credentials:
            return None
        return super().authenticate(request, **credentials)

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        email = claims.get("email") or ""
        # Some providers send the flag as a string; a provider that sends none vouches for its addresses.
        if not email or claims.get("email_verified", True) not in (True, "true"):
            return self.refuse(_("Single sign-on gave no verified email address, so it cannot tell who you are here."))
        users = list(self.UserModel.objects.filter(email__iexact=email, is_active=True)[:2])
        if not users:
            return self.refuse(
                _("No account here has the email address %(email)s. Ask an admin of your organization to invite you.")
                % {"email": email}
            )
        if len(users) > 1:
            return self.refuse(
                _(
                    "More than one account here has the email address %(email)s, so single sign-on cannot tell "
                    "which is yours. Ask the operator of this service to give each account its own address."
                )
                % {"email": email}
            )
        user = users[0]
        if not (user.is_staff or Membership.objects.filter(user=user).exists()):
            return self.refuse(
                _(
                    "The account with the email address %(email)s is not a member of any organization. Ask an "
                    "admin of your organization to invite you again."
                )
                % {"email": email}
            )
        return user

    def refuse(self, reason: str) -> None:
        logger.info("Single sign-on refused: %s", reason)
        self.request.sign_in_refused = reason


class CallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back. A refusal or a failure ends on the sign-in
    page with a message saying why, rather than the library's bare redirect or an error page."""

    def get(self, request):
        try:
            return super().get(request)
        except (SuspiciousOperation, requests.RequestException, jwt.PyJWTError):
            # A stale or forged callback, or a provider that is down or answers wrongly.
            logger.warning("Single sign-on failed", exc_info=True)
            return self.login_failure()

    def login_failure(self):
        reason = getattr(self.request, "sign_in_refused", None)
        messages.error(self.request, reason or _("Single sign-on could not be completed. Try again."))
        return redirect(settings.LOGIN_URL)
