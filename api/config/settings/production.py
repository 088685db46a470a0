"""Production: every secret and service address comes from the environment, and the process
refuses to start without them (a demo alone generates its secrets). This is the only module
that hardens defaults."""

from django.core.exceptions import ImproperlyConfigured

from api.config import env

from .base import *  # noqa: F403
from .base import DEBUG, database, log_settings, welcome_credit_paise

if DEBUG:
    raise ImproperlyConfigured(
        "DJANGO_DEBUG=1 is refused under production settings: debug pages show settings, "
        "source code and stack traces to anyone. Debug with the local settings instead."
    )

# Demo users share a published password: never in production by accident.
SEED_DEMO_ALLOWED = env.boolean("DEMO_DATA", False)
# A demo (DEMO_DATA=1) may start without its secrets: they are generated once into the run
# folder and reused, as in local mode (docker-compose.yml shares that folder between its
# services). Anything else refuses to start without them.
_secret = env.local_secret if SEED_DEMO_ALLOWED else env.required
SECRET_KEY = _secret("SECRET_KEY")
AADHAAR_KEYS = _secret("AADHAAR_KEYS")
AADHAAR_INDEX_KEY = _secret("AADHAAR_INDEX_KEY")
env.required("DATABASE_URL")
env.required("REDIS_URL")

DATABASES = {"default": database(None)}

# Money is not handed out unless the operator says so.
WELCOME_CREDIT_PAISE = welcome_credit_paise("0.00")
# One JSON object per line, for the log shipper.
LOGGING = log_settings("json")
# /metrics answers 404 until the operator sets METRICS_TOKEN.
METRICS_TOKEN_REQUIRED = True

# TLS ends at the reverse proxy, which must set X-Forwarded-Proto and overwrite any value a
# client sent; without it every request looks like plain http and is redirected forever.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", True)
# Health probes and the metrics scraper come straight over the private network, not through
# the proxy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Off by default: the preload list covers the whole registrable domain and takes months to
# leave; turn it on when submitting the domain to hstspreload.org.
SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True

# The session and CSRF cookies are the admin's; the API itself authenticates with bearer
# tokens. Neither cookie is read by page scripts (the admin's forms carry the CSRF token).
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
