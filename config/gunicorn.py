"""gunicorn settings for production (`gunicorn --config python:config.gunicorn`).

Once a worker has loaded the app and built what every request reads (the rulebook, the
vocabulary's names, the obligations' parts of an applicability answer), its objects are frozen,
so the garbage collector's full collections stop re-scanning them, and the youngest generation
is collected after 50,000 allocations instead of 700: a request's objects are freed by their
reference counts, and an applicability answer allocates a few thousand, which at the default
threshold started several collections per request (measured: +10 to 25% requests per second
on that endpoint, bench/README.md)."""

import gc
import os


def on_starting(server):
    """Collect the static files before serving. Production stores them under hashed names
    listed in a manifest; a page whose file is missing from it would answer 500, so a start
    without ``collectstatic`` would break every page."""
    import django
    from django.core.management import call_command

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    call_command("collectstatic", interactive=False, verbosity=0)


def post_worker_init(worker):
    from obligations.api.applicability import warm

    warm()
    gc.freeze()
    gc.set_threshold(50_000, *gc.get_threshold()[1:])


# Above the service's own URL limit (config.middleware.MAX_URL_LENGTH), so that an over-long URL
# gets the service's documented 414 rather than gunicorn's HTML page; 8190 is gunicorn's maximum.
limit_request_line = 8190


def child_exit(server, worker):
    """In multiprocess metrics mode (PROMETHEUS_MULTIPROC_DIR), a dead worker's live gauges
    must stop counting; its counters stay, summed into /metrics (config/metrics.py)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
