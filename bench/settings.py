"""The app's settings, plus what the benchmarks need: a URLconf with a minimal DRF endpoint
to compare against, and an email backend that only counts."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
EMAIL_BACKEND = "bench.mail.CountingBackend"
DEBUG = False
# Rate limits stay on (their cache round trip is part of every request) but never refuse. The
# window is one second: a throttle keeps every request of its window in one cached list, so a
# minute's window at bench rates would hold tens of thousands of entries (production's limit is
# 1,200 a minute) and inflate every request, the baseline's included.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}), "100000000/s"),  # noqa: F405
}
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}  # noqa: F405
