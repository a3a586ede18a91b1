import pytest

from regulations.models import CatalogVersion

pytestmark = pytest.mark.django_db


def test_health_reports_database_broker_and_catalogue(api):
    response = api.get("/api/v1/health/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    latest = CatalogVersion.objects.latest()
    assert body["checks"]["catalog"]["version"] == latest.content_hash[:12]
    assert body["checks"]["catalog"]["obligations"] == latest.obligations
    assert body["checks"]["database"]["ok"] is True


def test_a_failing_broker_degrades_but_keeps_the_instance_in_rotation(api, settings, monkeypatch):
    from config.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = api.get("/api/v1/health/")
    assert response.status_code == 200  # the API still serves; reminders wait for the broker
    assert (response.json()["status"], response.json()["failing"]) == ("degraded", ["broker"])


def test_health_names_a_missing_catalogue(api):
    CatalogVersion.objects.all().delete()
    response = api.get("/api/v1/health/")
    assert response.status_code == 503
    assert response.json()["failing"] == ["catalog"]
    assert response.json()["checks"]["catalog"]["error"] == "no catalogue loaded"


def test_web_pages_answer_503_when_the_database_is_unreachable(client, monkeypatch):
    from django.db import OperationalError

    from obligations.web import views

    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(views.catalog, "instrument_list", unreachable)  # the catalogue page's query fails
    response = client.get("/catalog/")
    assert response.status_code == 503
    assert "cannot reach its database" in response.content.decode()
    assert "Traceback" not in response.content.decode()
