"""Local mode (`make run`): embedded SQLite unless DATABASE_URL is set, secrets generated once
into the run folder."""

from api.config import env

from .base import *  # noqa: F403
from .base import database

SECRET_KEY = env.local_secret("SECRET_KEY")
AADHAAR_KEYS = env.local_secret("AADHAAR_KEYS")
AADHAAR_INDEX_KEY = env.local_secret("AADHAAR_INDEX_KEY")

DATABASES = {"default": database(None)}

# `make run` is the demo: the login page lists the demo logins (DEMO_MODE=0 hides them).
DEMO_MODE = env.boolean("DEMO_MODE", True)
