from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, register_converter
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.converters import IdConverter
from config.health import health
from config.metrics import scrape
from obligations.web.public import calendar_feed, reminders_unsubscribe

# Before the apps' URL modules are included: they use <id:...>.
register_converter(IdConverter, "id")

api_v1: list[URLPattern | URLResolver] = [
    path("health/", health, name="health"),
    path("", include("regulations.api.urls")),
    path("", include("obligations.api.urls")),
]

handler404 = "config.api.not_found"

# One sign-in page, with its rate limit, for the admin too, and for the API's browsable pages
# when passwords are off (its own page has only a password form).
sign_in_redirect = RedirectView.as_view(pattern_name="login", query_string=True)

urlpatterns = [
    path("admin/login/", sign_in_redirect),
    *([] if settings.PASSWORD_SIGN_IN else [path("api/auth/login/", sign_in_redirect)]),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/auth/", include("rest_framework.urls")),
    path("api/v1/", include(api_v1)),
    path("calendar/<str:secret>.ics", calendar_feed, name="calendar-feed"),
    path("reminders/unsubscribe/<str:token>/", reminders_unsubscribe, name="reminders-unsubscribe"),
    path("metrics", scrape, name="metrics"),
    path("", include("obligations.web.urls")),
]
