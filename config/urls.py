from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, register_converter
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.converters import IdConverter
from config.health import health
from obligations.web.public import calendar_feed, reminders_unsubscribe

# Before the apps' URL modules are included: they use <id:...>.
register_converter(IdConverter, "id")

api_v1: list[URLPattern | URLResolver] = [
    path("health/", health, name="health"),
    path("", include("regulations.api.urls")),
    path("", include("obligations.api.urls")),
]

handler404 = "config.api.not_found"

urlpatterns = [
    # One sign-in page, with its rate limit, for the admin too.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/auth/", include("rest_framework.urls")),
    path("api/v1/", include(api_v1)),
    path("calendar/<str:secret>.ics", calendar_feed, name="calendar-feed"),
    path("reminders/unsubscribe/<str:token>/", reminders_unsubscribe, name="reminders-unsubscribe"),
    path("", include("obligations.web.urls")),
]
