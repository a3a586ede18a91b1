"""The app's URLs plus /bench/ping/: the smallest DRF endpoint, with the same
authentication, permission and rate-limit classes as every API endpoint, as the baseline for
throughput."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView


class Ping(APIView):
    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("bench/ping/", Ping.as_view()),
    path("", include("config.urls")),
]
