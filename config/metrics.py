"""Prometheus metrics: what operators watch to see that reminders go out on time.

Counters and histograms live in the process that counts them. gunicorn runs several workers
and Celery its own processes, so when PROMETHEUS_MULTIPROC_DIR is set every process writes its
values to files in that folder and /metrics sums them (prometheus_client's multiprocess mode,
for the processes of one host). What must be right across hosts (deliveries waiting and
failed, how late delivery runs, the last reminder pass, the Celery queues) is read from the
database, the cache and the broker at each scrape instead (``Snapshot``).
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from config.clients import client_ip

if TYPE_CHECKING:
    from obligations.models import Reminder

logger = logging.getLogger(__name__)

# --- Counted where it happens ----------------------------------------------------------------

CHANNELS = ("webhook", "wecom", "dingtalk", "feishu", "email")
OUTCOMES = ("delivered", "retry", "failed", "dropped", "disabled")

DELIVERIES = Counter(
    "deliveries",
    "Delivery attempts by channel and outcome (email: reminder digests).",
    ["channel", "outcome"],
)
DELIVERY_SECONDS = Histogram(
    "delivery_duration_seconds",
    "How long the call to the mail server, webhook or chat service took.",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
REMINDERS_QUEUED = Counter("reminders_queued", "Reminders found due by a pass and queued into a digest.")
REMINDERS_LATE = Counter("reminders_late", "Reminders queued late: their time fell while no pass ran.")
REMINDERS_SENT = Counter("reminders_sent", "Reminders in digests the mail server accepted.")
# Passes run every 5 minutes, so on-time lags fall in the first buckets; the rest show outages.
REMINDER_LAG = Histogram(
    "reminder_lag_seconds",
    "From the moment a reminder fell due (the member's hour on its day) to the mail server accepting it.",
    buckets=(60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400),
)
HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
REQUESTS = Counter("http_requests", "HTTP requests by method, route and status class.", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request (to the first byte of a streamed answer).",
    ["method", "route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def delivery(channel: str, outcome: str, seconds: float | None = None) -> None:
    """Count one delivery attempt; ``seconds`` is how long the call to the far side took."""
    # Label values are a fixed vocabulary: a typo would otherwise start a new series quietly.
    if channel not in CHANNELS or outcome not in OUTCOMES:
        raise ValueError(f"unknown delivery channel or outcome: {channel!r}, {outcome!r}")
    DELIVERIES.labels(channel, outcome).inc()
    if seconds is not None:
        DELIVERY_SECONDS.labels(channel).observe(seconds)


def reminders_queued(reminders: Iterable[Reminder]) -> None:
    for reminder in reminders:
        REMINDERS_QUEUED.inc()
        if reminder.late:
            REMINDERS_LATE.inc()


def reminders_sent(reminders: Iterable[Reminder], accepted: dt.datetime) -> None:
    """Count reminders the mail server accepted at ``accepted`` and how long after their time.
    The lag runs from the item's creation when that is later: an item added already overdue
    could not have been reminded on time, and is no sign of a slow pass."""
    for reminder in reminders:
        REMINDERS_SENT.inc()
        since = max(reminder.send_at, reminder.item.created_at)
        REMINDER_LAG.observe(max((accepted - since).total_seconds(), 0))


class RequestMetricsMiddleware:
    """Counts and times every request. The route is the URL pattern's name (or the pattern),
    never the path: ids in paths would make a series per object."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        route = (match.view_name or match.route) if match else "unmatched"
        method = request.method if request.method in HTTP_METHODS else "other"
        REQUESTS.labels(method, route, f"{response.status_code // 100}xx").inc()
        REQUEST_SECONDS.labels(method, route).observe(time.perf_counter() - started)
        return response


# --- Read at each scrape ---------------------------------------------------------------------


class Backlog(NamedTuple):
    pending: int
    failed: int
    due_since: dt.datetime | None  # the earliest next attempt time of the pending ones


def _backlog(pending, failed, *, due_field: str) -> Backlog:
    """A ledger's backlog from its pending and failed rows (each read through a status index:
    the ledgers keep every delivery, so a scan of the whole table at each scrape would grow)."""
    found = pending.aggregate(count=Count("pk"), due_since=Min(due_field))
    return Backlog(found["count"], failed.count(), found["due_since"])


def backlogs() -> dict[str, Backlog]:
    """Each channel's ledger: deliveries waiting, given up, and the longest waiting. Reminder
    digests are "email" (a member who chose a chat robot gets their digest through the same
    ledger); webhooks and group robots have a line per kind."""
    from obligations.models import Delivery, Endpoint, ReminderDigest  # config loads before the apps

    digests, status = ReminderDigest.objects, ReminderDigest.Status
    found = {
        "email": _backlog(
            digests.filter(status=status.PENDING), digests.filter(status=status.FAILED), due_field="next_attempt_at"
        ),
    }
    for kind in Endpoint.Kind.values:
        deliveries = Delivery.objects.filter(endpoint__kind=kind)
        found[kind] = _backlog(
            deliveries.filter(status=Delivery.Status.PENDING),
            deliveries.filter(status=Delivery.Status.FAILED),
            due_field="next_attempt_at",
        )
    return found


def _last_pass() -> dt.datetime | None:
    from django.core.cache import cache

    from obligations.services.reminders import LAST_RUN_KEY

    return cache.get(LAST_RUN_KEY)


def _queue_lengths() -> dict[str, int]:
    """Messages waiting in each Celery queue. kombu counts them for either broker: the Redis
    lists (LLEN, with their priority lists) or the file-system broker's message files."""
    from config.celery import app

    names = {app.conf.task_default_queue, *(queue.name for queue in app.conf.task_queues or ())}
    with app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
        channel = connection.default_channel
        return {name: channel.queue_declare(queue=name, passive=False).message_count for name in sorted(names)}


class Snapshot(Collector):
    """What every host shares, read at each scrape. A source that cannot be read leaves its
    metrics out and says so in ``metrics_source_up``, rather than failing the whole scrape."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("metrics_source_up", "1 if the scrape could read this source.", labels=["source"])
        now = timezone.now()
        try:
            found = backlogs()
        except DatabaseError:
            logger.warning("metrics: the database could not be read", exc_info=True)
            found = {}
            up.add_metric(["database"], 0)
        else:
            up.add_metric(["database"], 1)
        pending = GaugeMetricFamily("delivery_pending", "Deliveries waiting to be sent.", labels=["channel"])
        failed = GaugeMetricFamily("delivery_failed", "Deliveries given up after their attempts.", labels=["channel"])
        delay = GaugeMetricFamily(
            "delivery_delay_seconds",
            "How long the longest-waiting pending delivery is past its time: how late delivery runs.",
            labels=["channel"],
        )
        for channel, backlog in found.items():
            pending.add_metric([channel], backlog.pending)
            failed.add_metric([channel], backlog.failed)
            waited = (now - backlog.due_since).total_seconds() if backlog.due_since else 0
            delay.add_metric([channel], max(waited, 0))
        yield from (pending, failed, delay)

        try:
            last = _last_pass()
        except Exception:  # the cache may live in the broker's Redis, down with it
            logger.warning("metrics: the cache could not be read", exc_info=True)
            up.add_metric(["cache"], 0)
        else:
            up.add_metric(["cache"], 1)
            if last is not None:
                yield GaugeMetricFamily(
                    "reminder_last_pass_timestamp_seconds", "When the last reminder pass ran.", value=last.timestamp()
                )

        queues = GaugeMetricFamily("celery_queue_length", "Tasks waiting in each Celery queue.", labels=["queue"])
        try:
            lengths = _queue_lengths()
        except Exception:  # any transport failure means the broker cannot be read
            logger.warning("metrics: the broker could not be read", exc_info=True)
            up.add_metric(["broker"], 0)
        else:
            up.add_metric(["broker"], 1)
            for name, length in lengths.items():
                queues.add_metric([name], length)
            yield queues
        yield up


class _ThisProcess(Collector):
    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def registry() -> CollectorRegistry:
    """This scrape's metrics: every process of the host's (multiprocess mode) or this process's,
    and the shared values."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(Snapshot())
    return registry


# --- /metrics --------------------------------------------------------------------------------

# Headers a reverse proxy adds: a request relayed by one is not local, whatever its address.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _allowed(request) -> bool:
    """With METRICS_TOKEN set, only ``Authorization: Bearer <token>``; without it, only a
    scraper on this host."""
    if settings.METRICS_TOKEN:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme == "Bearer" and hmac.compare_digest(given.encode(), settings.METRICS_TOKEN.encode())
    if any(header in request.META for header in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(client_ip(request)).is_loopback
    except ValueError:
        return False


@never_cache
@require_GET
def scrape(request):
    if not _allowed(request):
        return HttpResponse(
            "Metrics need Authorization: Bearer <METRICS_TOKEN>, or a request from this host when no token is set.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
