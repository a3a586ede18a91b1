import os

from celery import Celery
from celery.signals import worker_process_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("compliance_tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["config", "regulations", "obligations"])


@worker_process_shutdown.connect
def _metrics_process_dead(pid, **kwargs):
    """As gunicorn's child_exit (config/gunicorn.py), for the worker's pool processes."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
