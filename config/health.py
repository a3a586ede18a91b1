"""Liveness of the service and its dependencies, for load balancers and operators."""

from django.core.cache import cache
from django.db import DatabaseError, connection
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from config.celery import app as celery_app
from config.tasks import HEARTBEAT_KEY
from regulations.selectors import catalog_version_latest


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except DatabaseError as exc:
        return {"ok": False, "error": exc.__class__.__name__}


def _broker() -> dict:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return {"ok": True, "transport": conn.transport_cls}
    except Exception as exc:  # any transport failure means "down"; the type says which
        return {"ok": False, "error": exc.__class__.__name__}


def _catalog() -> dict:
    try:
        version = catalog_version_latest()
    except DatabaseError:
        return {"ok": False, "error": "database unavailable"}
    if version is None:
        return {"ok": False, "error": "no catalogue loaded"}
    return {
        "ok": True,
        "version": version.content_hash[:12],
        "loaded_at": version.loaded_at,
        "obligations": version.obligations,
    }


@extend_schema(responses={200: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT}, summary="Service health")
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def health(request):
    checks = {"database": _database(), "broker": _broker(), "catalog": _catalog()}
    try:
        checks["scheduler"] = {"last_heartbeat": cache.get(HEARTBEAT_KEY)}
    except Exception:  # the cache may live in the same Redis as the broker
        checks["scheduler"] = {"last_heartbeat": None}
    failing = [name for name in ("database", "broker", "catalog") if not checks[name]["ok"]]
    # Without the database nothing works: 503 takes the instance out of rotation. Without the
    # broker the API still serves; reminders wait until it is back: "degraded", still 200.
    down = [name for name in failing if name != "broker"]
    status = "unavailable" if down else "degraded" if failing else "ok"
    return Response({"status": status, "failing": failing, "checks": checks}, status=503 if down else 200)
