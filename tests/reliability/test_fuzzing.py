"""Schema-driven fuzzing: every operation of /api/schema/, as the admin of an organization with
data, with valid and invalid input generated from the schema by schemathesis. No answer may be
a server error (500, or 503 while the database is up), and every answer must conform to the
schema: a documented status (or a client error), the documented content type, the documented
body. Bounded: a fixed number of derandomized examples per operation and mode."""

import time
from collections import Counter
from urllib.parse import unquote, urlsplit

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import DatabaseError, close_old_connections, transaction
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, given
from hypothesis import Phase as Stage
from hypothesis import errors as hypothesis_errors
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
)

from obligations.models import ChecklistItem
from regulations.models import Phase

from .conftest import World, record

EXAMPLES = 20  # per operation and generation mode
MULTIPART = "multipart/form-data"  # evidence uploads; every other body is JSON
# Refusals an operation may answer although the schema documents only its successes.
CLIENT_ERRORS = {400, 401, 403, 404, 405, 406, 409, 412, 413, 415, 428, 429}


@pytest.fixture
def in_test_transaction():
    """Django's WSGI handler closes the database connection around each request, which inside
    the test's transaction would end it; Django's test client disconnects the same receivers."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def path_parameters(path: str, world: World) -> dict:
    """Real objects for every path parameter, so that requests reach the code behind the 404."""
    ids: dict[str, int | str] = {
        "/checklist/": world.item.pk,
        "/changes/": world.change_id,
        "/downloads/": world.download_id,
        "/endpoints/": world.endpoint_id,
        "/members/": world.viewer.pk,  # never the admin's own membership
        "/events/": world.event_id,
        "/invitations/": world.invitation.pk,
        "/calendar-feeds/": world.feed_id,
        "/evidence/": world.evidence.pk,
        "/tokens/": world.spare_token.pk,  # never the token the fuzzer authenticates with
        "/obligations/": "cn-deep-synthesis-2022:art7-management-systems",
    }
    params: dict[str, int | str] = {}
    if "{organization_id}" in path:
        params["organization_id"] = world.organization.pk
    if "{id}" in path:
        params["id"] = next(value for marker, value in ids.items() if marker in path)
    if "{code}" in path:
        params["code"] = "CN-SH-LG" if "/jurisdictions/" in path else "cn-deep-synthesis-2022"
    if "{key}" in path:
        keys = {"facts": "registered_in", "events": "service_launched", "roles": "app_operator"}
        collection = path.split("/")[3]
        key = keys.get(collection)
        if not key:
            phase = Phase.objects.filter(instrument__isnull=True).first()
            assert phase is not None  # the loaded catalogue has shared phases
            key = phase.key
        params["key"] = key
    return params


UNROUTED: list[str] = []


def routed(response) -> bool:
    try:
        resolve(unquote(urlsplit(response.request.url).path))
    except Resolver404:
        return False
    return True


def documented_status_or_client_error(ctx, response, case):
    """Successes must be the documented ones; refusals must be client errors with a JSON body."""
    documented = {int(code) for code in case.operation.responses.status_codes if code.isdigit()}
    status = response.status_code
    if status in documented:
        return None
    if status not in CLIENT_ERRORS:
        raise AssertionError(f"undocumented status {status} (documented: {sorted(documented)})")
    if status == 404 and not routed(response):
        UNROUTED.append(response.request.url)  # Django's own 404 page: no API view was reached
        return None
    if not response.headers.get("content-type", [""])[0].startswith("application/json"):
        raise AssertionError(f"{status} answered with {response.headers.get('content-type')}, not JSON")
    return None


def invalid_body_refused(ctx, response, case):
    """A request body that violates the schema must be refused, not read as something else.
    Invalid query values are not held to this: DRF and django-filter read an empty filter as no
    filter, the last of repeated values, and an unreadable page size as the default."""
    components = case.meta.components if case.meta else {}
    body = components.get(ParameterLocation.BODY)
    elsewhere = any(info.mode.is_negative for where, info in components.items() if where is not ParameterLocation.BODY)
    if body is None or not body.mode.is_negative or elsewhere or response.status_code >= 400:
        return None
    if case.media_type == MULTIPART and (not isinstance(case.body, dict) or "" in case.body.values()):
        # DRF reads forms as HTML forms do: an empty field is "not given", and a body that is
        # not a form is an empty one.
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    documented_status_or_client_error,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


class Fuzzer:
    def __init__(self, world: World):
        self.world = world
        self.auth = {"Authorization": f"Bearer {world.secret}"}
        self.cases = 0
        self.by_mode: Counter = Counter()
        self.statuses: Counter = Counter()

    def run(self, operation, mode: GenerationMode, real_paths: bool = True, examples: int = EXAMPLES) -> None:
        """Fuzz one operation in one mode; raises the first failure hypothesis finds. With
        ``real_paths`` the path names the world's objects; otherwise it is generated too."""
        world, auth = self.world, self.auth
        paths = path_parameters(operation.path, world) if real_paths else None
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=paths, headers=auth)
        checks = [*CHECKS, invalid_body_refused] if mode is GenerationMode.NEGATIVE else CHECKS

        @hypothesis_settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Stage.explicit, Stage.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def fuzz(case):
            self.cases += 1
            self.by_mode[mode.value if real_paths else "generated paths"] += 1
            if mode is GenerationMode.POSITIVE and "If-Match" in (case.headers or {}) and self.cases % 2:
                # Half the updates carry the current ETag, so that they get past the 412.
                version = ChecklistItem.objects.get(pk=world.item.pk).version
                case.headers["If-Match"] = f'"{world.item.pk}-{version}"'
            response = None
            try:
                with transaction.atomic():  # a failed statement must not end the test's transaction
                    response = case.call(headers=auth)
            except DatabaseError:  # the savepoint could not be released: the request broke it
                assert response is not None
            self.statuses[response.status_code] += 1
            case.validate_response(response, checks=checks)

        fuzz()


def test_every_operation_survives_schema_fuzzing(world, in_test_transaction):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
    fuzzer = Fuzzer(world)
    failures: dict[str, str] = {}
    operations = nothing_to_negate = 0
    UNROUTED.clear()
    started = time.monotonic()

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        runs = [(GenerationMode.POSITIVE, True), (GenerationMode.NEGATIVE, True)]
        if "{" in operation.path:
            runs.append((GenerationMode.POSITIVE, False))  # ids and keys that name nothing
        for mode, real_paths in runs:
            label = f"{operation.label} [{mode.value}{'' if real_paths else ', generated paths'}]"
            try:
                fuzzer.run(operation, mode, real_paths, EXAMPLES if real_paths else EXAMPLES // 2)
            except hypothesis_errors.Unsatisfiable as error:
                if mode is GenerationMode.POSITIVE:
                    failures[label] = f"could not generate: {error}"
                nothing_to_negate += 1  # no parameters and no body: no invalid request to make
            except (Exception, BaseExceptionGroup) as error:  # every failure is reported below, by operation
                failures[label] = str(error)[:3000]

    elapsed = time.monotonic() - started
    record(
        f"fuzzing: {operations} operations ({nothing_to_negate} without input to make invalid), "
        f"{fuzzer.cases} cases {dict(fuzzer.by_mode)} in {elapsed:.0f} s; "
        f"statuses {dict(sorted(fuzzer.statuses.items()))} ({len(UNROUTED)} of the 404s from URLs no route matches, "
        f"answered with Django's HTML page); failing {len(failures)}"
    )
    assert not failures, "\n\n".join(f"== {label}\n{message}" for label, message in failures.items())
    assert operations >= 60
    assert fuzzer.cases >= operations * EXAMPLES
