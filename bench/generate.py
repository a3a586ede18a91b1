"""Bench data, written with COPY into the bench database (replacing earlier bench data).

    .venv/bin/python bench/generate.py [--scale 1.0] [--items-per-org 100] [--dated 0.2]

--scale 1 is 10,000 organizations with 100 open checklist items each (1,000,000 items);
--scale 0.01 is 100 organizations and 10,000 items. Each organization has an admin, an officer
and a viewer (all with email addresses; the viewer gets no reminders) and the default reminder
policy. Items cite obligations that really apply, or need review, for a broad profile, with the
reasons the engine gives (about 87% apply, 13% need review); 80% are open, 20% in progress, half
are assigned to the officer. A share --dated of them has a due date, from 60 days before to 365
days after the bench day 2027-03-01; the rest are ongoing or qualitative duties, or wait for an
event, as most of the catalogue's obligations do (about 17% of those that apply to the broad
profile have a dated deadline; recurring duties add one item per period). --dated 1 gives every
item a due date: the heaviest case for reminders.

There is also the organization "bench-checklist" with 2,000 items, whose admin "bench" has the
API token bench.generate.TOKEN (the HTTP benchmarks use it).

The catalogue is migrated and loaded first if needed. Reproducible: the same arguments give the
same data.
"""

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from obligations.services import digest  # noqa: E402
from obligations.services.checklist import _reasons  # noqa: E402
from regulations import selectors  # noqa: E402
from regulations.applicability import Outcome, evaluate  # noqa: E402

BENCH_DAY = dt.date(2027, 3, 1)
FULL_ORGS = 10_000
CHECKLIST_ITEMS = 2_000
TOKEN = "cot_bench-token-for-local-benchmarks-only"  # noqa: S105 (bench data, not a secret)
PASSWORD = "!unusable"  # noqa: S105 (Django's marker for "no password")


# A profile under most of the catalogue, so that items cite many different obligations.
def broad_profile(book) -> dict:
    return {
        "roles": sorted(book.facts["roles"].values),
        "registered_in": "CN-SH-LG",
        "operates_in": sorted(book.parents),
        "data_sourced_in": [],
        "features": sorted(book.facts["features"].values),
        "sectors": sorted(book.facts["sectors"].values),
    }


def copy(table: str, columns: list[str], rows) -> None:
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)


def ids(table: str, key: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {key}, id FROM {table}")  # noqa: S608 (constant names)
        return dict(cursor.fetchall())


def obligation_pool() -> list[tuple[int, str, str, str]]:
    """(obligation id, applicability, waiting_for JSON, reasons JSON) for a broad profile."""
    book = selectors.rulebook()
    result = evaluate(book, broad_profile(book), as_of=BENCH_DAY)
    return [
        (
            e.rule.id,
            e.outcome.value,
            json.dumps([{"kind": m.kind, "key": m.key} for m in e.missing]),
            json.dumps(_reasons(e), ensure_ascii=False),
        )
        for e in result.evaluations
        # The checklist's items: duties (opportunities and expectations are listed apart).
        if e.outcome is not Outcome.DOES_NOT_APPLY and not e.preview and e.track == "duty"
    ]


ITEM_COLUMNS = [
    "organization_id", "obligation_id", "occurrence", "applicability", "waiting_for", "reasons", "status",
    "assignee_id", "due_date", "due_basis", "due_sequence", "justification", "superseded_reason", "version",
    "created_at", "updated_at", "track",
]  # fmt: skip


def item_rows(rng, organization_id, officer_id, picks, dated, now):
    for obligation_id, occurrence, applicability, waiting_for, reasons in picks:
        due = BENCH_DAY + dt.timedelta(days=rng.randint(-60, 365)) if rng.random() < dated else None
        basis = {
            "rule": {"kind": "fixed", "date": due.isoformat()} if due else {"kind": "ongoing"},
            "start": None,
            "steps": [{"code": "fixed", "date": due.isoformat()}] if due else [],
            "estimated": False,
            "pending": "" if due else "ongoing",
        }
        yield (
            organization_id, obligation_id, occurrence, applicability, waiting_for, reasons,
            "open" if rng.random() < 0.8 else "in_progress",
            officer_id if rng.random() < 0.5 else None,
            due, json.dumps(basis), 0, "", "{}", 1, now, now, "duty",
        )  # fmt: skip


def generate(scale: float, items_per_org: int, dated: float) -> None:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("load_catalog", verbosity=0)
    rng = random.Random(20270301)
    now = timezone.now()
    pool = obligation_pool()
    if items_per_org > len(pool):
        raise SystemExit(f"--items-per-org: at most {len(pool)} (one item per obligation)")
    organizations = max(1, round(FULL_ORGS * scale))
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE auth_user, obligations_organization RESTART IDENTITY CASCADE")

    slugs = ["bench-checklist"] + [f"bench-{n:05d}" for n in range(organizations)]
    copy(
        "obligations_organization",
        ["name", "slug", "timezone", "created_at"],
        ((slug, slug, "Asia/Shanghai", now) for slug in slugs),
    )
    usernames = ["bench", "bench-officer", "bench-viewer"] + [
        f"{role}-{n:05d}" for n in range(organizations) for role in ("admin", "officer", "viewer")
    ]
    copy(
        "auth_user",
        ["password", "is_superuser", "username", "first_name", "last_name", "email", "is_staff", "is_active",
         "date_joined"],
        ((PASSWORD, False, u, "", "", f"{u}@bench.example.com", False, True, now) for u in usernames),
    )  # fmt: skip
    org_ids, user_ids = ids("obligations_organization", "slug"), ids("auth_user", "username")
    teams = [("bench-checklist", "bench", "bench-officer", "bench-viewer")] + [
        (f"bench-{n:05d}", f"admin-{n:05d}", f"officer-{n:05d}", f"viewer-{n:05d}") for n in range(organizations)
    ]
    copy(
        "obligations_membership",
        ["organization_id", "user_id", "role", "created_at", "reminders_enabled", "reminder_language",
         "reminder_delivery", "reminder_hour", "reminder_timezone", "reminder_weekday", "reminder_channel",
         "reminder_chat_url", "reminder_chat_secret"],
        (
            (org_ids[slug], user_ids[user], role, now, True, rng.choice(["zh", "en"]), "daily", 9, "Asia/Shanghai", 0,
             "email", "", "")
            for slug, *users in teams
            for user, role in zip(users, ("admin", "officer", "viewer"), strict=True)
        ),
    )  # fmt: skip
    copy(
        "obligations_reminderpolicy",
        [
            "organization_id",
            "days_before",
            "overdue_every_days",
            "overdue_slow_after_days",
            "overdue_slow_every_days",
            "escalate_after_days",
        ],
        ((org_ids[slug], "[30, 7, 1, 0]", 7, 30, 30, 7) for slug, *_ in teams),
    )
    copy(
        "obligations_apitoken",
        ["user_id", "name", "prefix", "digest", "created_at"],
        [(user_ids["bench"], "bench", TOKEN[:12], digest(TOKEN), now)],
    )

    def rows():
        # The checklist organization: 2,000 items, the obligations once and then as periods.
        picks = [
            (o, "" if i < len(pool) else (BENCH_DAY + dt.timedelta(days=i)).isoformat(), a, w, r)
            for i, (o, a, w, r) in enumerate(pool[i % len(pool)] for i in range(CHECKLIST_ITEMS))
        ]
        yield from item_rows(rng, org_ids["bench-checklist"], user_ids["bench-officer"], picks, dated, now)
        for slug, _, officer, _ in teams[1:]:
            picks = [(o, "", a, w, r) for o, a, w, r in rng.sample(pool, items_per_org)]
            yield from item_rows(rng, org_ids[slug], user_ids[officer], picks, dated, now)

    copy("obligations_checklistitem", ITEM_COLUMNS, rows())
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT count(*), count(due_date) FROM obligations_checklistitem")
        items, with_dates = cursor.fetchone()
    print(
        f"generated {organizations} organizations + bench-checklist, {len(usernames)} users, "
        f"{items} open items ({with_dates} with a due date) in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 10,000 organizations (default)")
    parser.add_argument("--items-per-org", type=int, default=100)
    parser.add_argument("--dated", type=float, default=0.2, help="share of items with a due date (default 0.2)")
    args = parser.parse_args()
    generate(args.scale, args.items_per_org, args.dated)
