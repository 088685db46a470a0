import functools

import redis
from django.conf import settings


@functools.cache
def redis_client() -> redis.Redis:
    """The process's Redis client (thread-safe; its pool reconnects after a fork)."""
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
