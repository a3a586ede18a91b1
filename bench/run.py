"""The benchmarks, one command each (data from bench/generate.py; see bench/README.md):

    .venv/bin/python bench/run.py applicability   # the engine in-process, several profiles
    .venv/bin/python bench/run.py api             # POST /api/v1/applicability/ on gunicorn vs a minimal endpoint
    .venv/bin/python bench/run.py api --gc-freeze # the same with gc.freeze() in each gunicorn worker
    .venv/bin/python bench/run.py checklist       # GET .../checklist/ of the 2,000-item organization
    .venv/bin/python bench/run.py files           # exports, audit pack, changes, dashboard of that organization
    .venv/bin/python bench/run.py reminders       # a reminder pass, then the next, one worker then two
    .venv/bin/python bench/run.py outbound        # due-date events to a webhook and a robot per organization
    .venv/bin/python bench/run.py catalog         # load_catalog into an empty schema, then reload

Every benchmark prints the machine, the load average and a baseline measured in the same run,
so that figures taken on a busy machine can be read as ratios.
"""

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
import zoneinfo
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
PYTHON = sys.executable
NOW = dt.datetime(2027, 3, 1, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))  # the bench day, 10:00


def setup() -> None:
    import django

    django.setup()


# --- Shared ---------------------------------------------------------------------------------


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, load average {load}"


def calibrate() -> float:
    """Milliseconds for a fixed pure-Python workload: how fast this machine is right now."""

    def work():
        total = 0
        for i in range(200_000):
            total += i % 7
        return sorted(str(i) for i in range(20_000))

    return timed(work, 15)["median"]


def timed(fn, n: int, warmup: int = 3) -> dict:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"median": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1], "min": times[0]}


def header(name: str) -> None:
    print(f"== {name}  ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)")
    print(f"machine: {machine()}")


# --- Applicability in-process ---------------------------------------------------------------


def profiles(book) -> dict[str, dict]:
    from bench.generate import broad_profile
    from obligations.services import DEMO_PROFILE

    return {
        "demo (Lingang face-swap app)": DEMO_PROFILE,
        "empty (nothing answered)": {},
        "broad (every role, everywhere)": broad_profile(book),
    }


def bench_applicability(args) -> None:
    setup()
    from regulations import selectors
    from regulations.applicability import evaluate

    header("applicability: selectors.rulebook() then evaluate(), in-process")
    book, calendar = selectors.rulebook(), selectors.work_calendar()
    if args.copies > 1:
        book = multiplied(book, args.copies)
        selectors.rulebook = lambda: book  # the synthetic catalogue stands in for the loaded one
    if args.gc_freeze:  # as a web worker does once it has built its caches (config/gunicorn.py)
        import gc

        gc.freeze()
    events = {"service_launched": [dt.date(2027, 2, 1)]}
    print(f"catalogue: {len(book.rules)} obligations; as_of {NOW.date()}; one event reported; {args.n} runs each")
    print(f"baseline: calibration loop {calibrate():.2f} ms")
    alone = timed(selectors.rulebook, args.n)["median"]
    print(f"  selectors.rulebook() alone (cached; one version query): {alone:.2f} ms")
    for name, answers in profiles(book).items():

        def once(a=answers):
            return evaluate(selectors.rulebook(), a, events, as_of=NOW.date(), calendar=calendar)

        t = timed(once, args.n)
        print(
            f"  {name:32} median {t['median']:5.2f} ms  p95 {t['p95']:5.2f} ms  min {t['min']:5.2f} ms  "
            f"{once().counts()}"
        )


def multiplied(book, copies: int):
    """A synthetic catalogue ``copies`` times the size: each copy of every instrument is placed
    in another province (its obligations renumbered), as a user's catalogue with the rules of
    many places would be."""
    import dataclasses

    provinces = sorted(code for code, parent in book.parents.items() if parent == "CN")
    rules = list(book.rules)
    for n in range(1, copies):
        place = provinces[n % len(provinces)]
        for rule in book.rules:
            instrument = f"{rule.instrument}-copy{n}"
            rules.append(
                dataclasses.replace(
                    rule,
                    ref=f"{instrument}:{rule.ref.split(':', 1)[1]}",
                    id=rule.id + n * 1_000_000,
                    instrument=instrument,
                    jurisdiction=place,
                )
            )
    return dataclasses.replace(book, rules=rules, version=f"{book.version}x{copies}", _ancestors={})


# --- HTTP: gunicorn and a load client -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


class Server:
    def __init__(self, workers: int, gc_freeze: bool = False):
        self.port = free_port()
        config = ["--config", "python:config.gunicorn"] if gc_freeze else []
        self.process = subprocess.Popen(
            [str(Path(PYTHON).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--log-level", "warning", "--chdir", str(ROOT), *config],
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"},
        )  # fmt: skip

    def wait(self, headers: dict) -> None:
        for _ in range(300):
            try:
                status, _ = request(self.port, "GET", "/bench/ping/", None, headers)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("gunicorn did not start")

    def workers(self) -> list[int]:
        return children(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def request(port: int, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def load(port: int, method: str, path: str, body, headers: dict, seconds: float, concurrency: int) -> dict:
    """Closed loop: ``concurrency`` threads each send a request as soon as the last answered."""
    latencies: list[float] = []
    sizes: list[int] = []
    errors: list[int] = []
    stop = time.perf_counter() + seconds

    def client():
        while time.perf_counter() < stop:
            start = time.perf_counter()
            status, data = request(port, method, path, body, headers)
            latencies.append(time.perf_counter() - start)
            sizes.append(len(data))
            if status != 200:
                errors.append(status)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return {"count": len(latencies), "elapsed": elapsed, "latencies": latencies, "size": max(sizes), "errors": errors}


def bench_api(args) -> None:
    from bench.generate import BENCH_DAY, TOKEN

    label = f"gunicorn --workers {args.workers}" + (" with gc.freeze()" if args.gc_freeze else "")
    header(f"api: {label}, {args.concurrency} client threads, {args.rounds} x {args.seconds:.0f} s")
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept-Language": "en", "Content-Type": "application/json"}
    setup()
    from obligations.services import DEMO_PROFILE

    payload = {"profile": DEMO_PROFILE, "events": [{"type": "service_launched", "date": "2027-02-01"}],
               "as_of": BENCH_DAY.isoformat()}  # fmt: skip
    cases = {
        "minimal DRF endpoint (baseline)": ("GET", "/bench/ping/", None),
        "applicability, default (applies, needs review)": (
            "POST",
            "/api/v1/applicability/",
            json.dumps(payload).encode(),
        ),
        "applicability, all three groups": (
            "POST",
            "/api/v1/applicability/",
            json.dumps({**payload, "groups": ["applies", "needs_review", "does_not_apply"]}).encode(),
        ),
    }
    server = Server(args.workers, args.gc_freeze)
    try:
        server.wait(headers)
        for method, path, body in cases.values():  # warm every worker up, check the answers
            status, data = request(server.port, method, path, body, headers)
            assert status == 200, (status, data[:500])
            load(server.port, method, path, body, headers, 2, args.concurrency)
        totals: dict[str, dict[str, Any]] = {
            name: {"count": 0, "elapsed": 0.0, "latencies": [], "cpu": 0.0, "size": 0} for name in cases
        }
        for _ in range(args.rounds):  # interleaved, so that a change in load hits every case alike
            for name, (method, path, body) in cases.items():
                workers = server.workers()
                cpu = cpu_seconds(workers)
                result = load(server.port, method, path, body, headers, args.seconds, args.concurrency)
                assert not result["errors"], result["errors"][:5]
                total = totals[name]
                total["cpu"] += cpu_seconds(workers) - cpu
                total["count"] += result["count"]
                total["elapsed"] += result["elapsed"]
                total["latencies"] += result["latencies"]
                total["size"] = result["size"]
    finally:
        server.stop()
    base = None
    print(f"{'endpoint':44} {'req/s':>8} {'ratio':>6} {'median ms':>10} {'worker CPU ms/req':>18} {'bytes':>9}")
    for name, t in totals.items():
        rps = t["count"] / t["elapsed"]
        base = base or rps
        print(
            f"{name:44} {rps:8.1f} {rps / base:6.2f} {statistics.median(t['latencies']) * 1000:10.2f} "
            f"{t['cpu'] / t['count'] * 1000:18.2f} {t['size']:9d}"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


# --- Checklist list -------------------------------------------------------------------------


def bench_checklist(args) -> None:
    setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.generate import TOKEN
    from obligations.models import ChecklistItem, Organization

    header("checklist: GET /api/v1/organizations/<id>/checklist/ in-process (Django test client)")
    organization = Organization.objects.get(slug="bench-checklist")
    items = ChecklistItem.objects.filter(organization=organization, superseded_at__isnull=True).count()
    print(f"organization {organization.pk} with {items} items; page size 50")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_ACCEPT_LANGUAGE="en")

    def get(url):
        response = client.get(url)
        assert response.status_code == 200, response.content[:500]
        return response

    ping = timed(lambda: get("/bench/ping/"), args.n)
    print(f"baseline: minimal DRF endpoint median {ping['median']:.2f} ms; calibration loop {calibrate():.2f} ms")
    variants = {"app": f"/api/v1/organizations/{organization.pk}/checklist/"}
    for query in ("", "?page=20", "?status=open&ordering=-updated_at", "?overdue=true", "?role=enterprise"):
        for variant, base in variants.items():
            get(base + query)  # the process's caches (catalogue names and roles) are built once
            with CaptureQueriesContext(connection) as captured:
                data = get(base + query).json()
                queries = len(captured)  # now: the next request clears the log
            t = timed(lambda u=base + query: get(u), args.n)
            print(
                f"  {variant:8} checklist/{query:34} {len(data['results']):3d} items {queries:3d} queries  "
                f"median {t['median']:6.2f} ms  p95 {t['p95']:6.2f} ms  ({t['median'] / ping['median']:4.1f}x baseline)"
            )


# --- Files and pages for officers and auditors ----------------------------------------------


def bench_files(args) -> None:
    """The downloads and the new lists and pages of the 2,000-item organization: the checklist
    export (CSV, Excel, PDF), the audit pack (Excel, PDF), the changes list, the dashboard with
    its charts, the members page; queries each, time each, size of the files."""
    setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.generate import TOKEN
    from obligations.models import ChecklistItem, Membership, Organization

    # The pages name their static files; nothing here ran collectstatic for the manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    header("files: downloads, changes and pages of the 2,000-item organization, in-process")
    organization = Organization.objects.get(slug="bench-checklist")
    items = ChecklistItem.objects.filter(organization=organization, superseded_at__isnull=True).count()
    print(f"organization {organization.pk} with {items} current items")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    admin = Membership.objects.filter(organization=organization, role="admin").select_related("user").first()
    assert admin is not None
    pages = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    pages.force_login(admin.user)
    base, web = f"/api/v1/organizations/{organization.pk}/", f"/organizations/{organization.pk}/"
    ping = timed(lambda: api.get("/bench/ping/"), 50)
    print(f"baseline: minimal DRF endpoint median {ping['median']:.2f} ms; calibration loop {calibrate():.2f} ms")
    cases = [
        (api, base + "checklist/export/?lang=zh", args.n),
        (api, base + "checklist/export/?lang=zh&file=xlsx", args.n),
        (api, base + "audit-pack/?lang=zh&file=xlsx", args.n),
        (api, base + "changes/", args.n),
        (api, "/api/v1/catalog/versions/", args.n),
        (pages, web, args.n),
        (pages, web + "changes/", args.n),
        (pages, web + "members/", args.n),
    ]
    for client, url, n in cases:
        response = client.get(url)  # caches built once
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
            queries = len(captured)
        size = len(response.content) if not response.streaming else 0
        t = timed(lambda c=client, u=url: c.get(u), n, warmup=0)
        print(
            f"  {url.replace(base, 'api:').replace(web, 'page:'):48} {queries:3d} queries  {size / 1024:8.0f} KB  "
            f"median {t['median']:8.1f} ms  min {t['min']:8.1f} ms  (n={n})"
        )
    # The PDFs, as the background task makes them.
    from obligations.models import Download
    from obligations.services.checklist import organization_today
    from obligations.services.downloads import download_prepare

    today = organization_today(organization).isoformat()  # a pack is for a day up to today
    for kind, params in (
        ("checklist", {"lang": "zh", "query": ""}),
        ("audit_pack", {"lang": "zh", "as_of": today}),
    ):
        made: list[Download] = []

        def prepare(k=kind, p=params, out=made):
            download = Download.objects.create(organization=organization, requested_by=admin.user, kind=k, params=p)
            download_prepare(download.pk)
            out.append(Download.objects.get(pk=download.pk))

        with CaptureQueriesContext(connection) as captured:
            prepare()
        t = timed(prepare, args.slow, warmup=0)
        assert all(d.status == "ready" for d in made), [d.error for d in made]
        print(
            f"  task: {kind} PDF{'':34} {len(captured):3d} queries  {made[-1].size / 1024:8.0f} KB  "
            f"median {t['median']:8.1f} ms  min {t['min']:8.1f} ms  (n={args.slow})"
        )
        for download in made:
            download.file.delete(save=False)
            download.delete()


# --- Reminders ------------------------------------------------------------------------------


def reminders_worker(index: int) -> dict:
    """One worker process running one reminder pass, as a Celery worker would: every worker
    starts at once and they share the organizations through the chunk locks."""
    setup()
    from django.conf import settings
    from django.db import connection

    from bench.mail import CountingBackend
    from obligations.services import reminders

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    started, cpu, backend_cpu = time.time(), time.process_time(), cpu_seconds([backend])
    queued = reminders.queue_due(now=NOW, chunk=settings.REMINDER_CHUNK)
    queue_end = time.time()
    delivered = reminders.deliver_pending(now=NOW, chunk=settings.REMINDER_CHUNK)
    return {
        "index": index,
        "reminders": queued,
        "mails": CountingBackend.sent,
        "start": started,
        "queue_end": queue_end,
        "end": time.time(),
        "cpu": time.process_time() - cpu,
        "db_cpu": cpu_seconds([backend]) - backend_cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    } | {"sent": delivered["sent"]}


def run_pass(workers: int) -> dict:
    processes = [
        subprocess.Popen([PYTHON, __file__, "reminders-worker", str(i)], stdout=subprocess.PIPE, text=True)
        for i in range(workers)
    ]
    results = []
    for p in processes:
        out, _ = p.communicate()
        if p.returncode:
            raise SystemExit(f"worker failed: {out}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    total = {key: sum(r[key] for r in results) for key in ("reminders", "mails", "cpu", "db_cpu")}
    start = min(r["start"] for r in results)
    total["wall"] = max(r["end"] for r in results) - start
    total["queue"] = max(r["queue_end"] for r in results) - start
    total["deliver"] = total["wall"] - total["queue"]
    total["peak_mb"] = max(r["peak_mb"] for r in results)
    return total


def bench_reminders(args) -> None:
    setup()
    from django.core.cache import cache
    from django.db import connection

    from obligations.models import ChecklistItem, Organization
    from obligations.services import reminders

    header("reminders: a pass on the bench day (queue what is due, deliver it), then the next pass")
    organizations = Organization.objects.count()
    items = ChecklistItem.objects.filter(status__in=["open", "in_progress"]).count()
    dated = ChecklistItem.objects.filter(status__in=["open", "in_progress"], due_date__isnull=False).count()
    print(f"data: {organizations} organizations, {items} open items ({dated} with a due date); now = {NOW.isoformat()}")
    print(f"baseline: calibration loop {calibrate():.2f} ms")
    print("  (cpu: seconds of CPU in the worker processes + their PostgreSQL backends)")
    connection.close()
    best: dict[int, float] = {}
    for _ in range(args.repeat):
        for workers in args.workers:
            with connection.cursor() as cursor:
                tables = "obligations_reminder, obligations_reminderdigest, obligations_changenotice"
                cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY")
            cache.delete_many([reminders.LAST_RUN_KEY, reminders.OUTAGE_KEY])
            connection.close()
            first, again = run_pass(workers), run_pass(workers)
            best[workers] = min(best.get(workers, first["wall"]), first["wall"])
            for name, run in (("first pass", first), ("next pass ", again)):
                rate = run["mails"] / run["deliver"] / workers if run["mails"] else 0
                print(
                    f"  {workers} worker(s), {name}: {run['wall']:6.1f} s = {items / run['wall']:7.0f} items/s "
                    f"(queue {run['queue']:.1f} s: {run['reminders']} reminders; deliver {run['deliver']:.1f} s: "
                    f"{run['mails']} mails, {rate:.0f} a second a worker; cpu {run['cpu']:.1f} + "
                    f"{run['db_cpu']:.1f} s); peak RSS {run['peak_mb']:.0f} MB a worker; "
                    f"load average {os.getloadavg()[0]:.2f}"
                )
    if 1 in best and 2 in best:
        print(f"  best first passes: 1 worker {items / best[1]:.0f} items/s, 2 workers {items / best[2]:.0f} items/s, "
              f"speed-up {best[1] / best[2]:.2f}x")  # fmt: skip


# --- Webhooks and chat robots ----------------------------------------------------------------


def bench_outbound(args) -> None:
    """Every organization with a webhook and a WeCom robot posting to a local receiver that
    answers at once: the due-date events of the bench day (as the reminder pass records them,
    a chunk of organizations per transaction), their delivery (webhooks one POST an event,
    robots one message a batch), then the next pass, which records nothing new."""
    setup()
    import http.server

    from django.conf import settings
    from django.db import connection, transaction

    from obligations.models import ChecklistItem, Delivery, Endpoint, Organization, OutboundEvent
    from obligations.services import outbound

    class Quick(http.server.BaseHTTPRequestHandler):
        posts = 0

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            Quick.posts += 1
            body = b'{"errcode": 0, "errmsg": "ok"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quick)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.OUTBOUND_ALLOW_PRIVATE = True  # the receiver is on this machine

    header("outbound: due-date events of the bench day to a webhook and a robot per organization")
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE obligations_delivery, obligations_outboundevent, obligations_endpoint RESTART IDENTITY"
        )
    organizations = list(Organization.objects.order_by("pk").values_list("pk", flat=True))
    Endpoint.objects.bulk_create(
        [Endpoint(organization_id=pk, kind=k, url=f"{url}/{k}", secret=outbound.new_secret() if k == "webhook" else "",
                  events=list(Endpoint.Event.values)) for pk in organizations for k in ("webhook", "wecom")],
        batch_size=2000,
    )  # fmt: skip
    dated = ChecklistItem.objects.filter(status__in=["open", "in_progress"], due_date__isnull=False).count()
    print(f"data: {len(organizations)} organizations, {dated} open dated items; now = {NOW.isoformat()}")
    print(f"baseline: calibration loop {calibrate():.2f} ms")

    def record() -> tuple[int, float]:
        started, events = time.perf_counter(), 0
        for start in range(0, len(organizations), settings.REMINDER_CHUNK):
            with transaction.atomic():
                events += outbound.queue_due(organizations[start : start + settings.REMINDER_CHUNK], now=NOW)
        return events, time.perf_counter() - started

    events, seconds = record()
    print(f"  record: {events} events, {Delivery.objects.count()} deliveries in {seconds:.1f} s "
          f"({events / seconds:.0f} events/s)")  # fmt: skip
    started = time.perf_counter()
    counts = outbound.deliver(now=NOW)
    seconds = time.perf_counter() - started
    webhooks = Delivery.objects.filter(endpoint__kind="webhook", status="delivered").count()
    print(f"  deliver: {counts['delivered']} deliveries in {Quick.posts} posts ({webhooks} webhooks signed and "
          f"posted one by one, {Quick.posts - webhooks} robot messages) in {seconds:.1f} s: "
          f"{Quick.posts / seconds:.0f} posts/s, {counts['delivered'] / seconds:.0f} deliveries/s")  # fmt: skip
    again, seconds = record()
    print(f"  next pass: {again} new events in {seconds:.2f} s; {OutboundEvent.objects.count()} events kept")
    server.shutdown()


# --- Catalogue ------------------------------------------------------------------------------

CATALOG_SCHEMA = "bench_catalog"
CATALOG_TABLES = [
    "regulations_jurisdiction", "regulations_role", "regulations_fact", "regulations_eventtype",
    "regulations_phase", "regulations_instrument", "regulations_provision", "regulations_obligation",
    "regulations_obligation_roles", "regulations_obligation_see_also", "regulations_catalogversion",
]  # fmt: skip


def bench_catalog(args) -> None:
    import psycopg

    header("catalog: manage.py load_catalog into an empty database, then again with the same files")
    url = os.environ["DATABASE_URL"]
    conninfo = url.split("?")[0]
    env = {**os.environ, "DATABASE_URL": f"{conninfo}?options=-c%20search_path%3D{CATALOG_SCHEMA}"}

    def manage(*command) -> float:
        start = time.perf_counter()
        done = subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(done.stderr)
        return time.perf_counter() - start

    def snapshot() -> dict[str, str]:
        with psycopg.connect(conninfo, options=f"-c search_path={CATALOG_SCHEMA}") as conn:
            digest = "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {} t"
            found = {}
            for table in CATALOG_TABLES:
                row = conn.execute(digest.format(table)).fetchone()
                assert row is not None  # an aggregate without GROUP BY always returns one row
                found[table] = row[0]
            return found

    startup = statistics.median(manage("shell", "-c", "pass") for _ in range(3))
    print(f"baseline: manage.py startup (shell -c pass) {startup:.2f} s; calibration loop {calibrate():.2f} ms")
    for attempt in range(args.repeat):
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {CATALOG_SCHEMA} CASCADE")
            conn.execute(f"CREATE SCHEMA {CATALOG_SCHEMA}")
        manage("migrate", "--noinput")
        first = manage("load_catalog")
        before = snapshot()
        again = manage("load_catalog")
        unchanged = snapshot() == before
        print(
            f"  run {attempt + 1}: first load {first:5.2f} s, reload {again:5.2f} s "
            f"(catalogue tables {'unchanged' if unchanged else 'CHANGED'}; {before['regulations_obligation'].split(':')[0]} obligations)"  # noqa: E501
        )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {CATALOG_SCHEMA} CASCADE")


# --- A catalogue change over many organizations ---------------------------------------------

RESYNC_SCHEMA = "bench_resync"
# The amendments measured, each applied to a copy of the catalogue in turn: (label, obligation,
# text in its entry, replacement). Words only change no rule; the condition's removal makes the
# duty apply to every deep synthesis provider; its return sets those items aside again.
AMENDMENTS = [
    ("summary words only", "cn-deep-synthesis-2022:art6-news-reposting-provider", "summary_en: ", "summary_en: Now. "),
    (
        "condition removed",
        "cn-deep-synthesis-2022:art6-news-reposting-provider",
        "  conditions: {fact: sectors, includes: news}\n",
        "",
    ),
    (
        "condition restored",
        "cn-deep-synthesis-2022:art6-news-reposting-provider",
        "  deadline:",
        "  conditions: {fact: sectors, includes: news}\n  deadline:",
    ),
]


def resync_worker(scale: float) -> dict:
    """Builds organizations whose checklists match their profiles (the 44 scenario profiles of
    tests/scenarios, in turn: one organization per profile synced by the app, its items copied
    to the others), then loads catalogues with one amended obligation and times what follows."""
    import shutil
    import tempfile

    import yaml

    setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from bench.generate import copy, ids
    from obligations.models import ChecklistItem, Organization
    from obligations.services import checklist
    from regulations import services
    from regulations.catalog.validation import CATALOG_DIR

    call_command("migrate", verbosity=0)
    call_command("load_catalog", verbosity=0)
    profiles = [yaml.safe_load(p.read_text())["profile"] for p in sorted((ROOT / "tests" / "scenarios").glob("*.yaml"))]
    count = max(len(profiles), round(10_000 * scale))
    now = dt.datetime.now(dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE obligations_organization RESTART IDENTITY CASCADE")
    slugs = [f"resync-{n:05d}" for n in range(count)]
    copy("obligations_organization", ["name", "slug", "timezone", "created_at"],
         ((slug, slug, "Asia/Shanghai", now) for slug in slugs))  # fmt: skip
    org_ids = ids("obligations_organization", "slug")
    kinds = len(profiles)
    copy("obligations_profileversion", ["organization_id", "number", "answers", "changes", "created_at"],
         ((org_ids[slug], 1, json.dumps(profiles[n % kinds]), "{}", now) for n, slug in enumerate(slugs)))  # fmt: skip
    for organization in Organization.objects.filter(slug__in=slugs[:kinds]):
        checklist.checklist_sync(organization)
    columns = [str(f.column) for f in ChecklistItem._meta.concrete_fields if f.column not in ("id", "organization_id")]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE template (organization_id int, template_id int)")
    copy("template", ["organization_id", "template_id"],
         ((org_ids[slug], org_ids[slugs[n % kinds]]) for n, slug in enumerate(slugs) if n >= kinds))  # fmt: skip
    listed = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO obligations_checklistitem (organization_id, {listed}) "  # noqa: S608 (model columns)
            f"SELECT t.organization_id, {', '.join('i.' + c for c in columns)} "
            "FROM obligations_checklistitem i JOIN template t ON t.template_id = i.organization_id"
        )
        cursor.execute("VACUUM ANALYZE")
    items = ChecklistItem.objects.count()

    # Time every checklist's transaction and the catalogue's, through the functions that run them.
    spans: list[float] = []
    marks: dict[str, float] = {}
    sync, apply, send = checklist.checklist_sync, services._apply, services.signals.reports

    def timed_sync(*a, **kw):
        start = time.perf_counter()
        try:
            return sync(*a, **kw)
        finally:
            spans.append(time.perf_counter() - start)

    def timed_apply(*a, **kw):
        marks["apply"] = time.perf_counter()
        return apply(*a, **kw)

    def timed_send(*a, **kw):
        marks["committed"] = time.perf_counter()
        return send(*a, **kw)

    checklist.checklist_sync, services._apply, services.signals.reports = timed_sync, timed_apply, timed_send
    results = []
    root = Path(tempfile.mkdtemp()) / "catalog"
    shutil.copytree(CATALOG_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    try:
        for label, ref, old, new in AMENDMENTS:
            code, key = ref.split(":")
            path = root / "instruments" / f"{code}.yaml"
            text = path.read_text(encoding="utf-8")
            start = text.index(f"\n- id: {key}\n")
            end = text.index("\n- id: ", start + 1)
            path.write_text(text[:start] + text[start:end].replace(old, new, 1) + text[end:], encoding="utf-8")
            spans.clear()
            began = time.perf_counter()
            result = services.catalog_load(root=root)
            total = time.perf_counter() - began
            results.append({
                "label": label,
                "total": total,
                "catalogue_transaction": marks["committed"] - marks["apply"],
                "synced": len(result.reports),
                "changed": sum(sum(p.counts().values()) for p in result.reports),
                "longest_sync": max(spans, default=0.0),
                "sync_time": sum(spans),
            })  # fmt: skip
        # What the catalogue's transaction used to hold: every organization re-synced in it.
        spans.clear()
        began = time.perf_counter()
        with transaction.atomic():
            checklist.checklist_sync_all(cause={"code": "catalogue"})
        every = time.perf_counter() - began
    finally:
        shutil.rmtree(root.parent)
    return {"organizations": count, "items": items, "results": results, "every": every, "longest_every": max(spans)}


def bench_resync(args) -> None:
    import psycopg

    header("resync: load_catalog with one amended obligation, organizations with profiles")
    conninfo = os.environ["DATABASE_URL"].split("?")[0]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {RESYNC_SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {RESYNC_SCHEMA}")
    env = {**os.environ, "DATABASE_URL": f"{conninfo}?options=-c%20search_path%3D{RESYNC_SCHEMA}"}
    print(f"baseline: calibration loop {calibrate():.2f} ms")
    try:
        done = subprocess.run([PYTHON, __file__, "resync-worker", str(args.scale)], env=env, capture_output=True,
                              text=True)  # fmt: skip
        if done.returncode:
            raise SystemExit(done.stderr[-3000:])
        data = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {RESYNC_SCHEMA} CASCADE")
    print(f"data: {data['organizations']} organizations with profiles (44 kinds), {data['items']} checklist items")
    for r in data["results"]:
        print(
            f"  {r['label']:20} load {r['total']:6.2f} s (catalogue transaction {r['catalogue_transaction']:.2f} s); "
            f"{r['synced']:5d} checklists synced in {r['sync_time']:6.2f} s, {r['changed']} items changed; "
            f"longest checklist transaction {r['longest_sync'] * 1000:.0f} ms"
        )
    print(
        f"  before: every checklist synced inside the catalogue's transaction: {data['every']:.1f} s held "
        f"(longest single sync {data['longest_every'] * 1000:.0f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="benchmark", required=True)
    p = sub.add_parser("applicability")
    p.add_argument("-n", type=int, default=200, help="evaluations per profile")
    p.add_argument("--copies", type=int, default=1, help="a synthetic catalogue this many times the size")
    p.add_argument("--gc-freeze", action="store_true", help="gc.freeze() once the rulebook is built")
    p = sub.add_parser("api")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--concurrency", type=int, default=4, help="client threads")
    p.add_argument("--seconds", type=float, default=5, help="per case and round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--gc-freeze", action="store_true", help="gc.freeze() in each worker (config/gunicorn.py)")
    p = sub.add_parser("checklist")
    p.add_argument("-n", type=int, default=100, help="requests per query")
    p = sub.add_parser("files")
    p.add_argument("-n", type=int, default=10, help="requests per fast case")
    p.add_argument("--slow", type=int, default=3, help="requests per PDF")
    p = sub.add_parser("reminders")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to run, in turn")
    p.add_argument("--repeat", type=int, default=1, help="rounds of the worker counts (the best of each is compared)")
    p = sub.add_parser("outbound")
    p = sub.add_parser("catalog")
    p.add_argument("--repeat", type=int, default=3)
    p = sub.add_parser("resync")
    p.add_argument("--scale", type=float, default=1.0, help="1.0 = 10,000 organizations")
    p = sub.add_parser("reminders-worker", help="internal: one worker process of the reminders benchmark")
    p.add_argument("index", type=int)
    p = sub.add_parser("resync-worker", help="internal: the resync benchmark in its own schema")
    p.add_argument("scale", type=float)
    args = parser.parse_args()
    if args.benchmark == "reminders-worker":
        print(json.dumps(reminders_worker(args.index)))
        return
    if args.benchmark == "resync-worker":
        print(json.dumps(resync_worker(args.scale)))
        return
    {
        "applicability": bench_applicability,
        "api": bench_api,
        "checklist": bench_checklist,
        "files": bench_files,
        "reminders": bench_reminders,
        "outbound": bench_outbound,
        "catalog": bench_catalog,
        "resync": bench_resync,
    }[args.benchmark](args)


if __name__ == "__main__":
    main()
