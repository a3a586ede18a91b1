"""A compliance officer's first steps through a client that openapi-python-client generated from
the live schema, using nothing but the generated package (importable as ``cot_client``), as an
outside program would. Run by tests/reliability/test_generated_client.py with the service's
address and a bearer token; prints what it saw as JSON, which the test checks.

    python generated_client_flow.py http://127.0.0.1:8000 cot_...
"""

import csv
import datetime as dt
import importlib
import io
import json
import pkgutil
import sys

import cot_client
from cot_client import AuthenticatedClient
from cot_client.api.organizations import (
    organizations_checklist_export_retrieve,
    organizations_checklist_list,
    organizations_checklist_partial_update,
    organizations_checklist_retrieve,
    organizations_create,
    organizations_events_create,
    organizations_profile_partial_update,
)
from cot_client.models import (
    ItemStatusEnum,
    OrganizationEventRequest,
    OrganizationRequest,
    OrganizationsChecklistExportRetrieveLang,
    PatchedChecklistItemUpdateRequest,
    PatchedProfileUpdateRequest,
    PatchedProfileUpdateRequestAnswers,
)

# A Lingang company running a face-swap app, as in the README's example.
ANSWERS = {
    "roles": ["app_operator", "deep_synthesis_provider"],
    "registered_in": "CN-SH-LG",
    "operates_in": ["CN-SH"],
    "data_sourced_in": [],
    "features": ["biometric_editing", "public_opinion_attributes"],
}


def import_every_module() -> None:
    """Code generated from a schema the generator misreads may not even load (a body in two
    media types gave an operation's module an undefined name), and the flow imports only a few."""
    for module in pkgutil.walk_packages(cot_client.__path__, "cot_client."):
        importlib.import_module(module.name)


def main(base: str, token: str) -> dict:
    import_every_module()
    client = AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)
    statuses = {}

    created = organizations_create.sync_detailed(
        client=client, body=OrganizationRequest(name="Generated Client Ltd", slug="generated-client")
    )
    statuses["create organization"] = created.status_code
    organization = str(created.parsed.id)

    answers = PatchedProfileUpdateRequestAnswers.from_dict(ANSWERS)
    profile = organizations_profile_partial_update.sync_detailed(
        organization, client=client, body=PatchedProfileUpdateRequest(answers=answers)
    )
    statuses["patch profile"] = profile.status_code

    event = OrganizationEventRequest(type_="service_launched", date=dt.date(2025, 1, 20))
    reported = organizations_events_create.sync_detailed(organization, client=client, body=event)
    statuses["report event"] = reported.status_code

    listed = organizations_checklist_list.sync_detailed(organization, client=client, page_size=200)
    statuses["list checklist"] = listed.status_code
    item = str(listed.parsed.results[0].id)

    read = organizations_checklist_retrieve.sync_detailed(organization, item, client=client)
    statuses["read item"] = read.status_code
    etag = read.headers["ETag"]

    done = PatchedChecklistItemUpdateRequest(status=ItemStatusEnum.DONE)
    patched = organizations_checklist_partial_update.sync_detailed(
        organization, item, client=client, body=done, if_match=etag
    )
    statuses["patch item"] = patched.status_code
    # The same change again with the ETag read before it: the header reached the server.
    stale = organizations_checklist_partial_update.sync_detailed(
        organization, item, client=client, body=done, if_match=etag
    )
    statuses["patch item, stale ETag"] = stale.status_code

    exported = organizations_checklist_export_retrieve.sync_detailed(
        organization, client=client, lang=OrganizationsChecklistExportRetrieveLang.EN
    )
    statuses["download CSV"] = exported.status_code
    header, *rows = csv.reader(io.StringIO(exported.content.decode("utf-8-sig")))

    return {
        "statuses": statuses,
        "organization": int(organization),
        "profile version": profile.parsed.version,
        "listed": listed.parsed.count,
        "item": int(item),
        "item status": patched.parsed.status.value,
        "new ETag": patched.headers["ETag"] != etag,
        "CSV type": exported.headers["Content-Type"],
        "CSV header": header,
        "CSV rows": {row[-1].rsplit("/checklist/", 1)[1].strip("/"): row for row in rows},
    }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:3])))
