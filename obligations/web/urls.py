from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from .. import sso
from . import views

organization = [
    path("", views.dashboard, name="web-dashboard"),
    path("checklist/", views.checklist_page, name="web-checklist"),
    path("checklist/bulk/", views.checklist_bulk, name="web-checklist-bulk"),
    path("opportunities/", views.opportunities_page, name="web-opportunities"),
    path("checklist/<id:item_id>/", views.item_page, name="web-item"),
    path("checklist/<id:item_id>/status/", views.item_quick_status, name="web-item-status"),
    path("profile/", views.profile_page, name="web-profile"),
    path("preferences/", views.preferences_page, name="web-preferences"),
    path("audit/", views.audit_page, name="web-audit"),
    path("audit-pack/", views.audit_pack_page, name="web-audit-pack"),
    path("changes/", views.changes_page, name="web-changes"),
    path("downloads/", views.downloads_page, name="web-downloads"),
    path("members/", views.members_page, name="web-members"),
    path("endpoints/", views.endpoints_page, name="web-endpoints"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("organizations/", views.organizations, name="web-organizations"),
    path("account/tokens/", views.tokens_page, name="web-tokens"),
    path("invitations/accept/", views.invitation_page, name="web-invitation"),
    path("organizations/<id:organization_id>/", include(organization)),
    path("catalog/", views.catalog_page, name="web-catalog"),
    path("catalog/<slug:code>/", views.instrument_page, name="web-instrument"),
]

if settings.SINGLE_SIGN_ON:
    # The provider sends people back to /oidc/callback/: the redirect URI to register with it.
    urlpatterns += [
        path("oidc/authenticate/", OIDCAuthenticationRequestView.as_view(), name="oidc_authentication_init"),
        path("oidc/callback/", sso.CallbackView.as_view(), name="oidc_authentication_callback"),
    ]
