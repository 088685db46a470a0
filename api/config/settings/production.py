"""Production: every secret and service address comes from the environment, and the process
refuses to start without them. This is the only module that hardens defaults."""

from api.config import env

from .base import *  # noqa: F403
from .base import database

SECRET_KEY = env.required("SECRET_KEY")
AADHAAR_KEYS = env.required("AADHAAR_KEYS")
AADHAAR_INDEX_KEY = env.required("AADHAAR_INDEX_KEY")
env.required("DATABASE_URL")
env.required("REDIS_URL")

DATABASES = {"default": database(None)}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
