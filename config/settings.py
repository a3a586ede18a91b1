"""Settings for every environment, read from the environment in this one module.

With nothing set the service runs on embedded defaults (SQLite, a file-system Celery broker,
mail to the console). Production differs only by environment values: see README.md for the
table of variables.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
import orjson
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The fallback key is for local use only; `check --deploy` flags it, and HTTPS deployments
# must set SECRET_KEY.
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-local-development-key-do-not-deploy")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# One switch for everything that only makes sense behind TLS.
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
# Trusted proxies in front (a load balancer, nginx): only then are X-Forwarded-* headers read,
# and PROXY_COUNT says how many of them append to X-Forwarded-For (config.clients.client_ip).
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
PROXY_COUNT = env.int("PROXY_COUNT", default=1)
if PROXY_COUNT < 1:
    raise ImproperlyConfigured("PROXY_COUNT must be 1 or more.")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
if HTTPS and SECRET_KEY.startswith("django-insecure-"):
    raise ImproperlyConfigured("SECRET_KEY must be set in the environment when HTTPS is on (production).")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "axes",
    "csp",
    "regulations",
    "obligations",
]

MIDDLEWARE = [
    # First, so that it times and counts every answer, the other middleware's too.
    "config.metrics.RequestMetricsMiddleware",
    "config.middleware.UrlLengthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its answer.
    "axes.middleware.AxesMiddleware",
]

# --- Content Security Policy (django-csp) ----------------------------------------------------
# Pages load scripts only from this site (htmx is served from the static files), so an injected
# script cannot run. Inline style attributes are allowed: they cannot run code. The API docs
# page loads Swagger UI from its CDN and keeps Swagger's own policy.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# --- Single sign-on and passwords ----------------------------------------------------------
# Single sign-on with an OpenID Connect provider (mozilla-django-oidc) is on when a client id is
# set. The provider's verified email must name one member here (obligations.sso): signing in
# never creates an account. PASSWORD_SIGN_IN=false leaves single sign-on as the only way in to
# the pages; API tokens are not passwords and keep working.
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
SINGLE_SIGN_ON = bool(OIDC_RP_CLIENT_ID)
PASSWORD_SIGN_IN = env.bool("PASSWORD_SIGN_IN", default=True)
if not (PASSWORD_SIGN_IN or SINGLE_SIGN_ON):
    raise ImproperlyConfigured("PASSWORD_SIGN_IN=false needs single sign-on (OIDC_RP_CLIENT_ID): nobody could sign in.")
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="")  # on the sign-in button
if SINGLE_SIGN_ON:
    # The endpoints are set, not read from the provider's discovery document at start: a provider
    # that is down would otherwise keep every web, worker and beat process from starting.
    OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT")
    OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
    # RS and ES tokens are checked with the provider's published keys; HS256 with the client secret.
    OIDC_OP_JWKS_ENDPOINT = (
        env.str("OIDC_OP_JWKS_ENDPOINT", default=None)
        if OIDC_RP_SIGN_ALGO.startswith("HS")
        else env.str("OIDC_OP_JWKS_ENDPOINT")
    )
    OIDC_RP_SCOPES = "openid email"
    OIDC_USE_PKCE = True  # providers without PKCE ignore it (RFC 7636)
    OIDC_TIMEOUT = 10  # seconds per call to the provider: one that hangs must not hold a web worker

# --- Sign-in limit -------------------------------------------------------------------------
# django-axes hooks authenticate(), so every way to sign in with a password (the web page, the
# API's browsable sign-in, the admin) shares one count: 10 failures for a username from one
# address lock that pair out for 15 minutes; other addresses and other users are not affected,
# so an attacker cannot lock a user out for everyone. Attempts are rows in the database, which
# outlive a cache outage. The address is config.clients.client_ip, as for the rate limits.
# Without ModelBackend no password is checked anywhere; axes stays first, as its checks ask.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    *(["django.contrib.auth.backends.ModelBackend"] if PASSWORD_SIGN_IN else []),
    *(["obligations.sso.MemberBackend"] if SINGLE_SIGN_ON else []),
]
# A refused single sign-on is no password guess (the provider has checked the person), and
# counting it would lock out everyone behind an office's address after a few people not yet invited.
AXES_WHITELIST_CALLABLE = "config.clients.without_password"
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a fixed 15 minutes, not renewed by each try
AXES_USERNAME_FORM_FIELD = "username"
AXES_CLIENT_IP_CALLABLE = "config.clients.client_ip"
AXES_LOCKOUT_CALLABLE = "config.clients.locked_out"
AXES_VERBOSE = False

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
# Evidence files are served only through the API to members, never from MEDIA_URL.
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)
# Request bodies other than file uploads (JSON, form fields) above 1 MB are refused (413)
# before they are parsed; files are limited by EVIDENCE_MAX_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Email ---------------------------------------------------------------------------------
# EMAIL_URL: smtp://user:pass@host:587/?tls=True, consolemail://, filemail:///path
_email = env.email_url("EMAIL_URL", default="consolemail://")
if _email.get("EMAIL_FILE_PATH"):
    # django-environ drops the leading "/" of filemail:///var/mail/ct; that form names an absolute
    # folder, and filemail://mail one relative to the project.
    _path = env.str("EMAIL_URL").split("://", 1)[1].split("?", 1)[0]
    _email["EMAIL_FILE_PATH"] = _path if _path.startswith("/") else str(BASE_DIR / _path)
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="compliance-tracker@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery --------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    # A broker and result store on the file system: no server to install for local use.
    _queue = VAR_DIR / "celery" / "queue"
    _results = VAR_DIR / "celery" / "results"
    for _folder in (_queue, _results):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(_queue), "data_folder_out": str(_queue)}
    CELERY_RESULT_BACKEND = f"file://{_results}"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = TIME_ZONE
# Tasks are idempotent, so a worker lost mid-task may have it redelivered.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through LOGGING below (LOG_FORMAT), like the web processes, rather than through
# handlers of Celery's own; --loglevel still sets the level.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Each entry expires before the next run is due, so a backlog after downtime does not pile
# up duplicate runs: the next run selects everything still due anyway.
REMINDER_WORKERS = env.int("REMINDER_WORKERS", default=2)
REMINDER_CHUNK = env.int("REMINDER_CHUNK", default=100)  # recipients per transaction
CELERY_BEAT_SCHEDULE = {
    "dispatch-reminders": {
        "task": "obligations.tasks.start_reminder_dispatch",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 4 * 60},
    },
    # Recurring duties get their next periods whether or not anyone touches the organization.
    "roll-checklists-forward": {
        "task": "obligations.tasks.roll_forward",
        "schedule": crontab(hour=0, minute=20),
        "options": {"expires": 20 * 3600},
    },
    "expire-downloads": {
        "task": "obligations.tasks.expire_downloads",
        "schedule": crontab(hour=3, minute=10),
        "options": {"expires": 20 * 3600},
    },
    "deliver-outbound": {
        "task": "obligations.tasks.deliver_outbound",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    "record-heartbeat": {
        "task": "config.tasks.heartbeat",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 4 * 60},
    },
}

# --- Webhooks and chat robots ---------------------------------------------------------------
# Outbound posts go only to public addresses over https (obligations.http); a deployment that
# posts inside its own network (and the tests, on 127.0.0.1) turns this on.
OUTBOUND_ALLOW_PRIVATE = env.bool("OUTBOUND_ALLOW_PRIVATE", default=False)
# An endpoint failing this long without a success is turned off until an admin turns it on.
OUTBOUND_DISABLE_AFTER = timedelta(hours=env.int("OUTBOUND_DISABLE_AFTER_HOURS", default=72))
# Due-date events of a day are told from this hour in the organization's time zone.
OUTBOUND_HOUR = env.int("OUTBOUND_HOUR", default=9)
if not 0 <= OUTBOUND_HOUR <= 23:
    raise ImproperlyConfigured("OUTBOUND_HOUR must be an hour from 0 to 23.")

# --- Caches --------------------------------------------------------------------------------
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        # Shared by web, worker and beat processes, unlike an in-memory cache.
        else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}
    )
}

# --- API -----------------------------------------------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "obligations.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["config.api.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # Request bodies are JSON, except evidence uploads (multipart, set on that action): a form
    # cannot carry typed values (lists, booleans, nested answers), which DRF would read as empty
    # (a profile PUT would erase every answer), and one media type per operation is what
    # generated clients handle. Other media types answer 415.
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",  # the test client sends what the API reads
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttles.AnonThrottle",
        "config.throttles.UserThrottle",
        "config.throttles.ScopedThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),  # per address, public endpoints
        "user": env.str("THROTTLE_USER", default="1200/min"),  # per signed-in user or token
        "tokens": env.str("THROTTLE_TOKENS", default="20/hour"),  # creating API tokens
        "invitations": env.str("THROTTLE_INVITATIONS", default="30/hour"),  # accepting invitation codes
        # Audit packs: a PDF of a whole checklist takes seconds of a worker's time.
        "audit_packs": env.str("THROTTLE_AUDIT_PACKS", default="60/hour"),
    },
    # orjson: 0.03 ms instead of 0.6 ms for a 100 KB applicability answer (bench/README.md).
    # Field errors of a list are keyed by position (an int), which JSON writes as a string.
    "ORJSON_RENDERER_OPTIONS": (orjson.OPT_NON_STR_KEYS,),
    "DEFAULT_RENDERER_CLASSES": [
        "drf_orjson_renderer.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Compliance obligation tracker API",
    "DESCRIPTION": "Chinese digital-economy rules as trackable obligations: the catalogue, "
    "applicability, checklists and deadlines.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Operation ids and tags start after the version: organizations_checklist_list, not
    # v1_organizations_checklist_list, grouped by resource instead of all under "v1".
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.add_error_responses",
        "config.api.strict_request_bodies",
    ],
    "ENUM_NAME_OVERRIDES": {
        "OutcomeEnum": ["applies", "needs_review", "does_not_apply"],
        "AnswerKindEnum": ["fact", "event"],
        "ItemStatusEnum": "obligations.models.ChecklistItem.Status",
        "InstrumentStatusEnum": "regulations.models.Instrument.Status",
        "InvitationStatusEnum": "obligations.models.INVITATION_STATUSES",
        "LanguageEnum": "obligations.models.Membership.Language",
        "ItemTrackEnum": "obligations.models.ChecklistItem.Track",
        "LandsOnEnum": ["duty", "opportunity", "expectation", "none"],
        "HistoryActionEnum": "obligations.models.ItemHistory.Action",
        "AuditActionEnum": "obligations.models.AuditEvent.Action",
        "DownloadKindEnum": "obligations.models.Download.Kind",
        "DownloadStatusEnum": "obligations.models.Download.Status",
        "EndpointKindEnum": "obligations.models.Endpoint.Kind",
        "EndpointEventEnum": "obligations.models.Endpoint.Event",
        "DeliveryStatusEnum": "obligations.models.Delivery.Status",
    },
}

# --- Metrics, logs and error reports -----------------------------------------------------------
# /metrics (config/metrics.py) answers a scraper with this bearer token; with none set, only
# requests from this host.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# json: one JSON object a line, with the same fields as plain, for log collectors.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json.")
_log_fields = "%(asctime)s %(levelname)s %(name)s %(message)s"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": _log_fields},
        "json": {"()": "pythonjsonlogger.json.JsonFormatter", "format": _log_fields},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes logs every successful sign-in at INFO; failures and lockouts come as warnings.
    # WeasyPrint logs each page it lays out at INFO, and that it embeds a whole font (see
    # README, "PDF files") at WARNING.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "WARNING"},
    },
}

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    # Here rather than in wsgi.py, so that web, worker and beat processes all report. No
    # personal data (addresses, cookies, user names) goes with a report.
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
