"""Test mode (`make test`): real PostgreSQL and Redis, a fast password hasher, generous
throttles and backlog limits (tests that check them set their own)."""

from api.config import env

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK, cache, database, log_settings

SECRET_KEY = env.local_secret("SECRET_KEY")
AADHAAR_KEYS = env.local_secret("AADHAAR_KEYS")
AADHAAR_INDEX_KEY = env.local_secret("AADHAAR_INDEX_KEY")

DATABASES = {"default": database("postgres://postgres@127.0.0.1:5432/vaultpay")}
# pytest-django creates and drops test_vaultpay around the run.

REDIS_URL = env.get("REDIS_URL", "redis://127.0.0.1:6379/15")
CACHES = {"default": cache(REDIS_URL, "vaultpay-test")}
CELERY_BROKER_URL = REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests capture the log lines they check (conftest `log_lines`).
LOGGING = log_settings("text", cache_loggers=False)
# Tests leave PENDING transfers behind on purpose (some back-dated); backpressure tests set
# their own limits.
MAX_PENDING = env.integer("MAX_PENDING", 10**9)
MAX_PENDING_AGE = env.integer("MAX_PENDING_AGE", 10**9)
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        scope: "100000/min" for scope in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    },
}
