"""The checklist list: every filter returns exactly the items it names, unknown parameters are
refused, ordering works, and a page costs the same number of queries however long the list."""

import datetime as dt
import itertools
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from obligations.models import ChecklistItem
from regulations.models import Obligation
from tests.factories import SHANGHAI_APP

from .conftest import (
    EXISTING_APP,
    at,
    item_for,
    patch_item,
    report_event,
    url,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 5, 1)


@pytest.fixture
def busy(make_user, make_organization, add_member, client_for, time_machine):
    """A Shanghai app company on 1 May 2025 with dated, assigned, finished and superseded items."""
    time_machine.move_to(at(2025, 5, 1))  # the clock runs: updated_at differs between items
    admin = make_user("busy-admin")
    organization = make_organization(admin, "Busy", profile=SHANGHAI_APP)
    client = client_for(admin)
    bob = make_user("bob")
    add_member(organization, bob)
    report_event(client, organization, "filing_info_changed", "2025-03-03")
    report_event(client, organization, "filing_info_changed", "2025-06-02")
    report_event(client, organization, "service_terminated", "2025-04-01")
    mistaken = report_event(client, organization, "request_received", "2025-04-10")
    assert client.delete(url(organization, f"events/{mistaken}/")).status_code == 204

    items = list(ChecklistItem.objects.filter(organization=organization, superseded_at__isnull=True).order_by("pk"))
    changes = [
        {"status": "done"},
        {"status": "in_progress", "assignee": bob.pk},
        {"assignee": admin.pk},
        {"status": "not_applicable", "justification": "Not our service."},
        {"status": "done", "assignee": bob.pk},
    ]
    for item, change in zip(items[::3], changes * 10, strict=False):
        assert patch_item(client, item, change).status_code == 200
    return SimpleNamespace(organization=organization, client=client, admin=admin, bob=bob)


def listing(client, organization, params=None):
    response = client.get(url(organization, "checklist/"), {"page_size": 200, **(params or {})})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"])
    return body["results"]


def ids(results) -> list[int]:
    return sorted(r["id"] for r in results)


def test_every_filter_returns_exactly_the_matching_items(busy):
    organization, client, admin, bob = busy.organization, busy.client, busy.admin, busy.bob
    everything = listing(client, organization)
    dated = sorted({r["due_date"] for r in everything if r["due_date"]})
    assert len(dated) >= 3
    middle = dated[len(dated) // 2]

    cases = [
        ({"status": "done"}, lambda r: r["status"] == "done"),
        ({"status": ["in_progress", "not_applicable"]}, lambda r: r["status"] in ("in_progress", "not_applicable")),
        ({"applicability": "needs_review"}, lambda r: r["applicability"] == "needs_review"),
        ({"applicability": "applies"}, lambda r: r["applicability"] == "applies"),
        ({"phase": "in_operation"}, lambda r: r["phase"] == "in_operation"),
        ({"instrument": "cn-miit-app-filing-2023"}, lambda r: r["instrument"] == "cn-miit-app-filing-2023"),
        ({"role": "app_operator"}, lambda r: "app_operator" in r["roles"]),
        ({"kind": "prohibition"}, lambda r: r["kind"] == "prohibition"),
        ({"assignee": "me"}, lambda r: (r["assignee"] or {}).get("id") == admin.pk),
        ({"assignee": str(bob.pk)}, lambda r: (r["assignee"] or {}).get("id") == bob.pk),
        ({"assignee": "none"}, lambda r: r["assignee"] is None),
        ({"due_before": middle}, lambda r: r["due_date"] is not None and r["due_date"] <= middle),
        ({"due_after": middle}, lambda r: r["due_date"] is not None and r["due_date"] >= middle),
        ({"overdue": "true"}, lambda r: r["overdue"]),
        ({"overdue": "false"}, lambda r: not r["overdue"]),
        ({"superseded": "false"}, lambda r: True),
        (
            {"status": "open", "instrument": "cn-deep-synthesis-2022", "assignee": "none"},
            lambda r: r["status"] == "open" and r["instrument"] == "cn-deep-synthesis-2022" and r["assignee"] is None,
        ),
    ]
    for params, matches in cases:
        expected = [r for r in everything if matches(r)]
        got = listing(client, organization, params)
        assert ids(got) == ids(expected), params
        assert all(matches(r) for r in got), params
        if params != {"superseded": "false"}:
            assert 0 < len(got) < len(everything), params  # the filter discriminates

    overdue = listing(client, organization, {"overdue": "true"})
    assert all(r["due_date"] < TODAY.isoformat() and r["status"] in ("open", "in_progress") for r in overdue)


def test_superseded_items_are_hidden_unless_asked_for(busy):
    organization, client = busy.organization, busy.client
    superseded = ChecklistItem.objects.filter(organization=organization, superseded_at__isnull=False)
    live = ChecklistItem.objects.filter(organization=organization, superseded_at__isnull=True).duties()
    assert superseded.exists()

    assert ids(listing(client, organization)) == sorted(live.values_list("pk", flat=True))
    shown = listing(client, organization, {"superseded": "true"})
    assert ids(shown) == sorted(superseded.values_list("pk", flat=True))
    assert all(r["superseded_at"] and r["superseded_reason"] for r in shown)


@pytest.mark.parametrize(
    "params",
    [
        {"stauts": "done"},
        {"status": "finished"},
        {"applicability": "maybe"},
        {"assignee": "someone"},
        {"due_before": "next week"},
        {"due_after": "2025-13-01"},
    ],
)
def test_unknown_filters_and_bad_values_are_400(busy, params):
    organization, client = busy.organization, busy.client
    response = client.get(url(organization, "checklist/"), params)

    assert response.status_code == 400
    assert set(params) <= set(response.json())


@pytest.mark.parametrize("name", ["overdue", "superseded"])
def test_bad_boolean_filter_values_are_400(busy, name):
    organization, client = busy.organization, busy.client
    response = client.get(url(organization, "checklist/"), {name: "perhaps"})

    assert response.status_code == 400
    assert name in response.json()


def sort_key(name: str):
    """What each order sorts by, read from the list's own rows."""
    phases = dict(Obligation.objects.values_list("phase__key", "phase_id"))
    return {
        "due_date": lambda r: r["due_date"],
        "status": lambda r: r["status"],
        "updated_at": lambda r: r["updated_at"],
        "id": lambda r: r["id"],
        "instrument": lambda r: r["instrument"],
        "phase": lambda r: phases[r["phase"]],  # the vocabulary's lifecycle order
        "assignee": lambda r: (r["assignee"] or {}).get("username"),
    }[name]


@pytest.mark.parametrize("name", ["due_date", "status", "updated_at", "id", "instrument", "phase", "assignee"])
@pytest.mark.parametrize("reverse", [False, True])
def test_ordering(busy, name, reverse):
    organization, client = busy.organization, busy.client
    results = listing(client, organization, {"ordering": f"-{name}" if reverse else name})
    key = sort_key(name)
    values = [key(r) for r in results]
    known = [v for v in values if v is not None]
    assert len(set(known)) > 1
    assert known == sorted(known, reverse=reverse)
    # Items without a date or an assignee come last either way; ties go by id.
    assert values[len(known) :] == [None] * (len(values) - len(known))
    for a, b in itertools.pairwise(results):
        if key(a) == key(b):
            assert a["id"] < b["id"]
    assert ids(results) == ids(listing(client, organization))


def test_orders_combine_and_an_unknown_one_is_a_400_naming_it(busy):
    organization, client = busy.organization, busy.client
    results = listing(client, organization, {"ordering": "status,-due_date"})
    pairs = [(r["status"], r["due_date"] or "") for r in results]
    statuses = [p[0] for p in pairs]
    assert statuses == sorted(statuses)
    response = client.get(url(organization, "checklist/"), {"ordering": "status,bogus"})
    assert response.status_code == 400 and "ordering" in response.json()
    assert "bogus" in str(response.json()["ordering"])
    # What was typed is quoted as typed, even a "%" (found by the schema fuzzer: it was a 500).
    response = client.get(url(organization, "checklist/"), {"ordering": "50%s", "status": "null"})
    assert response.status_code == 400 and "50%s" in response.json()["ordering"][0]


def test_default_order_is_by_due_date_then_id(busy):
    organization, client = busy.organization, busy.client
    results = listing(client, organization)
    dated = [(r["due_date"], r["id"]) for r in results if r["due_date"]]
    assert dated == sorted(dated)
    undated = [r["id"] for r in results if not r["due_date"]]
    assert undated == sorted(undated)


def test_pagination(busy):
    organization, client = busy.organization, busy.client
    total = len(listing(client, organization))
    first = client.get(url(organization, "checklist/"), {"page_size": 10}).json()
    second = client.get(url(organization, "checklist/"), {"page_size": 10, "page": 2}).json()
    assert first["count"] == total
    assert len(first["results"]) == 10
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


# --- Query count ---------------------------------------------------------------------------


def fill(organization, count: int, users) -> None:
    """``count`` items of different obligations (instruments, phases, roles), assigned and
    completed by different people."""
    obligations = list(Obligation.objects.filter(retired=False).order_by("?")[:count])
    assert len(obligations) == count
    ChecklistItem.objects.bulk_create(
        ChecklistItem(
            organization=organization,
            obligation=o,
            applicability="applies",
            due_date=dt.date(2026, 1, 1) + dt.timedelta(days=n % 200),
            status="done" if n % 4 == 0 else "open",
            assignee=users[n % len(users)],
            completed_by=users[(n + 1) % len(users)] if n % 4 == 0 else None,
            reasons=[{"test": "roles", "result": True}],
        )
        for n, o in enumerate(obligations)
    )


def queries_for_a_page(client, organization, params=None, size: int = 50) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url(organization, "checklist/"), params or {})
    assert response.status_code == 200
    assert len(response.json()["results"]) == size
    return len(captured)


def test_a_page_costs_the_same_queries_for_a_short_and_a_long_list(
    make_user, make_organization, add_member, client_for
):
    small_admin, large_admin = make_user("small-admin"), make_user("large-admin")
    small, large = make_organization(small_admin, "Small"), make_organization(large_admin, "Large")
    small_users = [small_admin] + [make_user(f"s{n}") for n in range(3)]
    large_users = [large_admin] + [make_user(f"l{n}") for n in range(20)]
    for user in small_users[1:]:
        add_member(small, user)
    for user in large_users[1:]:
        add_member(large, user)
    fill(small, 50, small_users)
    fill(large, 600, large_users)

    small_client, large_client = client_for(small_admin), client_for(large_admin)
    small_client.get(url(small, "checklist/"))  # the process's catalogue caches (names, roles) are built once
    counts = [queries_for_a_page(small_client, small), queries_for_a_page(large_client, large)]
    # Nothing is fetched per row either: a page of 5 costs what a page of 50 does.
    counts.append(queries_for_a_page(large_client, large, {"page_size": 5}, size=5))
    for params in ({"ordering": "-status"}, {"page": 3}, {"status": "open"}):
        counts.append(queries_for_a_page(large_client, large, params))
    # Authentication, membership, count, the page with its catalogue rows, the catalogue's
    # version (roles and names come from its cache) and the page's people, which a page where
    # nobody is assigned or done skips; a query per row would add 5 to 600.
    assert max(counts) <= 6 and max(counts) - min(counts) <= 1, counts
    exports = []
    for organization, client in ((large, large_client), (small, small_client)):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(organization, "checklist/export/")).status_code == 200
        exports.append(len(captured))
    # The whole file, 600 rows or 50, in the same few queries: the words come from one lookup.
    assert exports[0] == exports[1] <= 6, exports


def test_needs_review_placeholder_is_listed_with_its_questions(busy):
    organization, client = busy.organization, busy.client
    item = item_for(organization, EXISTING_APP)
    (entry,) = [r for r in listing(client, organization, {"applicability": "needs_review"}) if r["id"] == item.pk]
    assert entry["waiting_for"] == [{"kind": "event", "key": "service_launched"}]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_list_rows_are_written_as_the_item_serializer_writes_them(busy, lang):
    """The list writes its rows directly for speed; they must say what DRF's fields say."""
    from django.utils.functional import SimpleLazyObject

    from obligations.api.checklist import ChecklistItemListSerializer, ChecklistItemSerializer
    from regulations import selectors

    items = list(
        ChecklistItem.objects.filter(organization=busy.organization).select_related(
            "obligation__instrument", "obligation__provision", "obligation__phase", "assignee", "completed_by"
        )
    )
    assert {i.status for i in items} >= {"open", "in_progress", "done", "not_applicable"}
    assert any(i.superseded_at for i in items) and any(i.assignee_id for i in items) and any(i.opens for i in items)
    context = {
        "lang": lang,
        "today": TODAY,
        "labels": selectors.labels(),
        "roles": SimpleLazyObject(selectors.obligation_roles),
    }
    fast = ChecklistItemListSerializer(items, many=True, context=context).data
    assert fast == ChecklistItemSerializer(items, many=True, context=context).data
    assert [list(row) for row in fast] == [list(ChecklistItemSerializer.Meta.fields)] * len(items)


# --- Search ---------------------------------------------------------------------------------


def test_search_finds_words_in_chinese_and_english_and_needs_every_word(busy):
    organization, client = busy.organization, busy.client
    everything = listing(client, organization)
    obligations = {o.pk: o for o in Obligation.objects.select_related("instrument", "provision")}

    def seen(result) -> str:
        """What the search looks at, as the reader sees it."""
        o = obligations[ChecklistItem.objects.get(pk=result["id"]).obligation_id]
        i = o.instrument
        texts = (o.summary_zh, o.summary_en, o.quote_zh, o.provision.label)
        titles = (i.title_zh, i.title_en, i.short_title_zh, i.short_title_en)
        return " ".join((*texts, *titles)).lower()

    for query in ("备案", "深度合成", "Filing", "filing", "第十九条", "label content"):
        words = query.lower().split()
        expected = [r for r in everything if all(w in seen(r) for w in words)]
        got = listing(client, organization, {"q": query})
        assert ids(got) == ids(expected), query
        assert 0 < len(got) < len(everything), query  # it discriminates
    # Chinese needs no spaces; two words must both appear, in any order.
    both = listing(client, organization, {"q": "filing 备案"})
    assert ids(both) == ids([r for r in everything if "filing" in seen(r) and "备案" in seen(r)])
    assert listing(client, organization, {"q": "备案 zzzz-nothing"}) == []
    # Search combines with the other filters, and the other organization's items never show.
    done = listing(client, organization, {"q": "备案", "status": "done"})
    assert done and all(r["status"] == "done" for r in done)


def test_search_longer_than_200_characters_is_a_400_naming_it(busy):
    response = busy.client.get(url(busy.organization, "checklist/"), {"q": "备" * 201})
    assert response.status_code == 400
    assert "q" in response.json()
