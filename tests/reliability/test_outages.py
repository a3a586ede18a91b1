"""The database lost in the middle of a request and coming back: between the service and
PostgreSQL sits a TCP proxy that the test cuts after the request has written its first row.
The request answers 503 JSON, the half-done transaction leaves nothing behind, requests while
the database is away answer 503, and the first request after it is back answers normally."""

import contextlib
import socket
import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from obligations import services
from obligations.models import ProfileVersion
from obligations.services import profile as profile_service

from .conftest import record


class CuttableProxy:
    """Forwards TCP connections to ``target``; ``cut`` drops every connection and refuses new
    ones (as a dead server or a broken network does) until ``restore``."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        with self.lock:
            for end in self.open:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self.open.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def database_through_proxy(postgres):
    connection = connections["default"]
    settings_dict = connection.settings_dict
    original = (settings_dict["HOST"], settings_dict["PORT"])
    proxy = CuttableProxy((original[0] or "127.0.0.1", int(original[1] or 5432)))
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", proxy.port
    try:
        yield proxy
    finally:
        proxy.restore()
        connection.close()
        settings_dict["HOST"], settings_dict["PORT"] = original
        proxy.close()


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_database_lost_mid_request_answers_503_writes_nothing_and_recovers(
    database_through_proxy, django_user_model, monkeypatch
):
    proxy = database_through_proxy
    admin = django_user_model.objects.create_user("ada", "ada@example.com", "pw-ada-123")
    organization = services.organization_create(user=admin, name="Acme", slug="acme")
    client = APIClient()
    client.force_authenticate(admin)
    base = f"/api/v1/organizations/{organization.pk}/"
    assert client.patch(f"{base}profile/", {"answers": {"employees": 10}}, format="json").status_code == 200

    # The next profile change has written its new version when the database goes away.
    real_sync = profile_service.checklist_sync

    def sync_after_the_cut(*args, **kwargs):
        proxy.cut()
        return real_sync(*args, **kwargs)

    monkeypatch.setattr(profile_service, "checklist_sync", sync_after_the_cut)
    cut = client.patch(f"{base}profile/", {"answers": {"employees": 99}}, format="json")
    monkeypatch.setattr(profile_service, "checklist_sync", real_sync)
    assert cut.status_code == 503, cut.content
    assert cut.json()["code"] == "database_unavailable"

    while_down = [client.get(f"{base}profile/"), client.get("/api/v1/instruments/"), client.get("/api/v1/health/")]
    assert [r.status_code for r in while_down] == [503, 503, 503]
    assert all(r["Content-Type"].startswith("application/json") for r in while_down)

    proxy.restore()
    after = client.get(f"{base}profile/")
    assert after.status_code == 200
    assert after.json()["version"] == 1 and after.json()["answers"] == {"employees": 10}
    assert list(ProfileVersion.objects.filter(organization=organization).values_list("number", flat=True)) == [1]
    again = client.patch(f"{base}profile/", {"answers": {"employees": 99}}, format="json")
    assert again.status_code == 200 and again.json()["version"] == 2
    record("fault database cut mid-request: 503 JSON, 0 rows half-written, 3 requests while down 503, next 200")
