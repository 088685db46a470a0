"""Which Celery workers are alive: each worker's main process marks the time in Redis every
HEARTBEAT_SECONDS (api/config/celery.py), and `/readyz?deep=1` and /metrics count the workers
that marked within ALIVE_SECONDS. Reading is one bounded Redis call, never a broadcast."""

import time

from api.core.redis import redis_client

HEARTBEAT_SECONDS = 2.0
ALIVE_SECONDS = 10.0
KEY = "vaultpay:workers:alive"


def worker_heartbeat(*, worker: str) -> None:
    """Marks `worker` alive now and forgets workers silent for a minute. Raises Redis's
    errors (the caller, a timer, logs them)."""
    now = time.time()
    pipeline = redis_client().pipeline(transaction=False)
    pipeline.zadd(KEY, {worker: now})
    pipeline.zremrangebyscore(KEY, "-inf", now - 60)
    pipeline.execute()


def workers_alive() -> int:
    """How many workers marked themselves alive within ALIVE_SECONDS. Raises Redis's errors
    (within the request path's timeout)."""
    return redis_client().zcount(KEY, time.time() - ALIVE_SECONDS, "+inf")
