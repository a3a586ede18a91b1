"""gunicorn settings for production (`gunicorn --config python:config.gunicorn`).

Once a worker has loaded the app its objects are frozen, so the garbage collector's full
collections stop re-scanning them: measured +24% requests per second on the applicability
endpoint (bench/README.md)."""

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
    gc.freeze()


# Above the service's own URL limit (config.middleware.MAX_URL_LENGTH), so that an over-long URL
# gets the service's documented 414 rather than gunicorn's HTML page; 8190 is gunicorn's maximum.
limit_request_line = 8190
