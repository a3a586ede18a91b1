from oauth2_provider.oauth2_validators import OAuth2Validator


class EmailClaims(OAuth2Validator):
    """Gives the ``email`` scope's claims. A user whose name starts with "unverified" stands for
    an account whose address the provider has not confirmed."""

    def get_additional_claims(self, request):
        user = request.user
        return {"email": user.email, "email_verified": not user.username.startswith("unverified")}
