"""Settings shared by every mode. Modes differ only through environment variables and the
few defaults that local.py, test.py and production.py set before importing this module."""

from datetime import timedelta

import dj_database_url
from redis.backoff import NoBackoff
from redis.retry import Retry

from api.config import env
from api.core.logs import logging_config
from api.core.money import setting_paise
from api.core.redis import REQUEST_TIMEOUT_SECONDS

BASE_DIR = env.BASE_DIR
RUN_DIR = env.RUN_DIR

DEBUG = env.boolean("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env.listing("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CORS_ALLOWED_ORIGINS = env.listing("CORS_ALLOWED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api.core",
    "api.users",
    "api.accounts",
    "api.transfers",
    # Sockets: subscribes to the domain's signals (realtime/apps.py).
    "realtime",
]

MIDDLEWARE = [
    "api.core.middleware.RequestIdMiddleware",
    # Outermost after the id: it sees every response as the client gets it.
    "api.core.middleware.AccessLogMiddleware",
    # Outside the envelope middleware, so that the error envelopes it writes in place of
    # Django's pages get the security headers too.
    "django.middleware.security.SecurityMiddleware",
    "api.core.middleware.ErrorEnvelopeMiddleware",
    "api.core.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Sessions, CSRF, Django's authentication and messages serve the admin's pages only: the
    # API (bearer tokens, no cookies) skips them (api/core/page_middleware.py).
    "api.core.page_middleware.PagesSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "api.core.page_middleware.PagesCsrfViewMiddleware",
    "api.core.page_middleware.PagesAuthenticationMiddleware",
    "api.core.page_middleware.PagesMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Sent by SecurityMiddleware with every response (README, "Security headers"); spelled out
# because the web app's pages rely on them. Same-origin: no Referer (paths hold transfer ids)
# leaves the site.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

ROOT_URLCONF = "api.config.urls"
WSGI_APPLICATION = "api.config.wsgi.application"
ASGI_APPLICATION = "api.config.asgi.application"

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


def database(default_url: str | None) -> dict:
    """DATABASE_URL when set; otherwise the mode's default (local mode: embedded SQLite)."""
    url = env.get("DATABASE_URL", default_url)
    if url is None:
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": RUN_DIR / "vaultpay.sqlite3",
            "OPTIONS": {
                # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at
                # BEGIN so two writers queue on the busy timeout instead of failing to upgrade.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    # CONN_MAX_AGE=0 under an ASGI server: Django runs each request's sync code on a new
    # thread, so persistent connections pile up, one per thread, until PostgreSQL refuses more.
    max_age = env.integer("CONN_MAX_AGE", 60)
    config = dj_database_url.parse(url, conn_max_age=max_age, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["ENGINE"] = "api.core.postgresql"  # a cheaper health check; see its module
        # Fail fast (and let /readyz answer 503) when the server silently drops packets.
        config.setdefault("OPTIONS", {})["connect_timeout"] = 5
    return config


REDIS_URL = env.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def cache(redis_url: str, key_prefix: str) -> dict:
    """Django's cache in Redis, with the request-path timeouts of api.core.redis: no retries,
    250 ms per command, so a frozen Redis answers as fast as a stopped one."""
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_url,
        "KEY_PREFIX": key_prefix,
        "OPTIONS": {
            "socket_timeout": REQUEST_TIMEOUT_SECONDS,
            "socket_connect_timeout": REQUEST_TIMEOUT_SECONDS,
            "retry": Retry(NoBackoff(), 0),
        },
    }


CACHES = {"default": cache(REDIS_URL, "vaultpay")}

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        # Our User has full_name instead of the default first_name and last_name.
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DISPLAY_TIME_ZONE = "Asia/Kolkata"

STATIC_URL = "static/"
STATIC_ROOT = env.get("STATIC_ROOT") or RUN_DIR / "static"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The web app (web/): `npm run build` writes web/dist; its hashed assets are collected as static
# files (/static/assets/...) and cached for good, index.html is served for client-side routes.
SPA_DIST_DIR = BASE_DIR / "web" / "dist"
SPA_INDEX_FILE = SPA_DIST_DIR / "index.html"
STATICFILES_DIRS = [SPA_DIST_DIR] if SPA_DIST_DIR.is_dir() else []
WHITENOISE_IMMUTABLE_FILE_TEST = r"^/static/assets/.+-[0-9A-Za-z_-]{8}\.\w+$"
# Demo mode lists the demo logins on the login page (GET /api/config/); local mode turns it on.
DEMO_MODE = env.boolean("DEMO_MODE", False)
# `seed_demo` creates users with a published password; production settings allow it only
# with DEMO_DATA=1.
SEED_DEMO_ALLOWED = True

# Request bodies are at most 64 KiB, else 413 (README, "API").
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

THROTTLE_RATES = {
    "anon": env.get("THROTTLE_ANON", "1200/min"),
    "user": env.get("THROTTLE_USER", "6000/min"),
    "register": env.get("THROTTLE_REGISTER", "300/min"),
    "login": env.get("THROTTLE_LOGIN", "300/min"),
    # Failed logins per submitted email, from any address (api/users/login_failures.py).
    "login_failures": env.get("THROTTLE_LOGIN_FAILURES", "10/hour"),
    # Admin sign-in attempts per client address.
    "admin_login": env.get("THROTTLE_ADMIN_LOGIN", "10/min"),
    "reveal": env.get("THROTTLE_REVEAL", "5/min"),
    "transfer": env.get("THROTTLE_TRANSFER", "6000/min"),
    "ticket": env.get("THROTTLE_TICKET", "120/min"),
    "lookup": env.get("THROTTLE_LOOKUP", "60/min"),
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.core.parsers.NestingSafeJsonParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.core.throttling.AnonCounterThrottle",
        "api.core.throttling.UserCounterThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    # Throttle by the connecting address unless a known number of proxies sits in front;
    # trusting X-Forwarded-For blindly would let any client pick its own throttle bucket.
    "NUM_PROXIES": env.integer("NUM_PROXIES", 0),
    "EXCEPTION_HANDLER": "api.core.exception_handlers.drf_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.core.schema.AutoSchema",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
    "UNAUTHENTICATED_USER": None,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "VaultPay API",
    "DESCRIPTION": "Peer-to-peer INR wallet. Errors use one envelope (each error response "
    "lists its `error.code` values); money is a decimal string. Conventions: docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.core.schema.response_headers",
        "api.core.schema.response_links",
    ],
}


def welcome_credit_paise(default: str) -> int:
    """WELCOME_CREDIT when set, else the mode's default (production credits nothing)."""
    return setting_paise("WELCOME_CREDIT", env.get("WELCOME_CREDIT", default))


WELCOME_CREDIT_PAISE = welcome_credit_paise("1000.00")
MAX_TRANSFER_AMOUNT_PAISE = setting_paise(
    "MAX_TRANSFER_AMOUNT", env.get("MAX_TRANSFER_AMOUNT", "100000.00")
)
MAX_DEPOSIT_AMOUNT_PAISE = setting_paise(
    "MAX_DEPOSIT_AMOUNT", env.get("MAX_DEPOSIT_AMOUNT", "10000000.00")
)
TRANSFER_TTL_SECONDS = env.integer("TRANSFER_TTL", 86400)
# Backpressure: new transfers and deposits answer 503 `overloaded` while more than MAX_PENDING
# transfers are PENDING or the oldest has waited more than MAX_PENDING_AGE seconds.
MAX_PENDING = env.integer("MAX_PENDING", 100_000)
MAX_PENDING_AGE = env.integer("MAX_PENDING_AGE", 30)
# The transfer hot path (README, "How it works", Accept). Not an environment variable: tests
# turn it off to check that the full path gives every request the same answer.
TRANSFER_ACCEPT_FAST_PATH = True

CELERY_BROKER_URL = REDIS_URL
# kombu's Redis transport with one fix: a worker that loses Redis while it holds an
# unacknowledged task reconnects instead of exiting (api/config/broker.py).
CELERY_BROKER_TRANSPORT = "api.config.broker:Transport"

# Realtime (README, "Realtime"). REST stays on the WSGI server on PORT; WebSockets are served
# by the ASGI server on WS_PORT (Procfile `ws`). The ticket endpoint answers the absolute URL
# to open: WS_PUBLIC_URL when set (behind a reverse proxy), else ws://<request host>:WS_PORT.
# HTTP_PORT, when set, is the web app's port for the ws process: process managers such as
# honcho give every process a PORT of its own, so under `make run` the ws process's PORT is
# not the port the pages come from (and their Origin would be refused).
HTTP_PORT = env.integer("HTTP_PORT", env.integer("PORT", 8000))
WS_PORT = env.integer("WS_PORT", HTTP_PORT + 1)
WS_PUBLIC_URL = env.get("WS_PUBLIC_URL")
REALTIME_TICKET_TTL_SECONDS = 30
# A socket more than this many events behind is refused (4410 on connect) or closed (4429).
REALTIME_MAX_BEHIND = 1000
REALTIME_RETENTION_DAYS = 30
# Open sockets per user, counted across all socket-server processes (realtime.registry).
MAX_SOCKETS_PER_USER = env.integer("MAX_SOCKETS_PER_USER", 10)

CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection after every task unless this is set;
# a settle task then pays a new PostgreSQL connection (a backend fork) each time. Connections
# are still closed past CONN_MAX_AGE and when unusable (api/config/celery.py).
CELERY_DB_REUSE_MAX = 1_000_000
# Redis redelivers an unacknowledged message only after this many seconds; the beat sweep,
# not redelivery, is the real recovery path (README, "How it works", Recovery).
# Socket timeouts bound a worker's or beat's own commands on a broker that vanished without
# closing the connection; the consuming loop is not subject to them. A publish from a request
# uses shorter ones (api/config/celery.py).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 300,
    "socket_timeout": 5,
    "socket_connect_timeout": 5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers reconnect after a Redis outage however long it lasts (Celery's default gives up
# after 100 attempts), trying every 2 s at most (api/config/celery.py).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CONSUMER = "api.config.celery:QuickReconnectConsumer"


def log_settings(default_format: str, cache_loggers: bool = True) -> dict:
    """LOG_FORMAT (json or text; the mode's default) and LOG_LEVEL (api/core/logs.py)."""
    return logging_config(
        log_format=env.get("LOG_FORMAT", default_format),
        level=env.get("LOG_LEVEL", "INFO"),
        cache_loggers=cache_loggers,
    )


LOGGING = log_settings("text")

# GET /metrics (api/core/metrics): open without a token except in production, which answers
# 404 until METRICS_TOKEN is set.
METRICS_TOKEN = env.get("METRICS_TOKEN")
METRICS_TOKEN_REQUIRED = False

# Settlement (README, "How it works"): senders hash into a fixed number of partitions, each drained
# by one settler at a time in acceptance order. Give every worker process a partition: with more
# partitions than processes, a busy partition waits for a process. Changing the count while
# transfers are PENDING would break per-sender order; drain first.
SETTLEMENT_PARTITIONS = env.integer("SETTLEMENT_PARTITIONS", 2)
SETTLEMENT_BATCH_SIZE = env.integer("SETTLEMENT_BATCH_SIZE", 500)
# After a batch smaller than the batch size a settler waits 2 ms per transfer it settled, at most
# LINGER_MS, so that batches grow with the load; it leaves a partition empty for IDLE_MS.
SETTLEMENT_LINGER_MS = env.integer("SETTLEMENT_LINGER_MS", 20)
SETTLEMENT_IDLE_MS = env.integer("SETTLEMENT_IDLE_MS", 250)
# The sweep wakes partitions holding PENDING transfers older than this (lost wake-ups, crashes).
SETTLEMENT_SWEEP_AFTER_SECONDS = env.integer("SETTLEMENT_SWEEP_AFTER_SECONDS", 5)
CELERY_BEAT_SCHEDULE = {
    "settlement-sweep": {"task": "workers.tasks.settlement_sweep", "schedule": 5.0},
    # The cheap checks of the ledger audit, for the metrics (README, "Operating it").
    "ledger-audit-quick": {"task": "workers.tasks.ledger_audit_quick", "schedule": 60.0},
}
# Celery keeps its hands off logging: Django's LOGGING applies (api/config/celery.py).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Beat answers `celery inspect ping -d celerybeat@<host>` (its health check) only while its
# scheduler has ticked within the last minute: it ticks every 5 s for the sweep, so a beat
# silent that long is stuck, or cut off from the broker it sends the sweep through.
CELERY_BEAT_ENABLE_REMOTE_CONTROL = True
CELERY_BEAT_REMOTE_CONTROL_MAX_TICK_AGE = 60
