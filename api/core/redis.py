"""The Redis client of request paths (and of the short commands workers send).

Redis is never allowed to hold a request: every command gives up after
REQUEST_TIMEOUT_SECONDS, without retries, so a frozen Redis (a stopped process, a dropped
network) costs what a stopped one costs. After a connection failure or a timeout the process
skips Redis for OUTAGE_SECONDS and fails at once, so during an outage each process pays the
timeout about once a second rather than on every command. Callers fall back (throttles count
per process, wake-ups wait for the sweep) or answer 503 (see README "Faults and overload").
"""

import functools
import logging
import time

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_SECONDS = 0.25
OUTAGE_SECONDS = 1.0
# What an unreachable or frozen Redis raises (redis.TimeoutError is no ConnectionError).
UNAVAILABLE_ERRORS = (redis.ConnectionError, redis.TimeoutError)


class FailFastRedis(redis.Redis):
    """A redis.Redis that refuses commands for OUTAGE_SECONDS after one failed to connect or
    timed out, raising redis.ConnectionError as the failed command did."""

    _down_until = float("-inf")

    def execute_command(self, *args, **options):
        if time.monotonic() < self._down_until:
            raise redis.ConnectionError("Redis was unreachable moments ago.")
        try:
            return super().execute_command(*args, **options)
        except UNAVAILABLE_ERRORS as error:
            self._down_until = time.monotonic() + OUTAGE_SECONDS
            logger.warning("Redis unavailable (%s); not tried for %s s", error, OUTAGE_SECONDS)
            raise


@functools.cache
def redis_client() -> redis.Redis:
    """The process's Redis client (thread-safe; its pool reconnects after a fork)."""
    return FailFastRedis.from_url(
        settings.REDIS_URL,
        socket_timeout=REQUEST_TIMEOUT_SECONDS,
        socket_connect_timeout=REQUEST_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
    )
