"""Settlement partitions.

Senders hash into SETTLEMENT_PARTITIONS partitions. One settler at a time drains a partition,
in acceptance (id) order, under a transaction-scoped PostgreSQL advisory lock; so a sender's
transfers settle first-in, first-out however many workers run. Account row locks, taken after
the partition lock, stay in primary-key order across partitions.

Waking: an accept publishes a "drain partition p" task only when p is not already awake (a
Redis SET NX flag that the settler clears once it has drained the partition, then reads it
once more), so under load most accepts publish nothing. The beat sweep wakes partitions
whose PENDING transfers have waited too long, which covers lost messages, crashed workers
and a Redis restart.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from api.config.celery import BROKER_UNAVAILABLE_ERRORS, send_task_from_request
from api.config.celery import app as celery_app
from api.core.redis import UNAVAILABLE_ERRORS, redis_client
from api.transfers.models import Transfer

logger = logging.getLogger(__name__)

# First key of the two-key advisory lock, so these locks cannot collide with any other use.
ADVISORY_LOCK_NAMESPACE = 0x5650  # "VP"
SETTLE_TASK = "workers.tasks.settle_partition"
# A flag left behind by a lost task expires, so a partition can never stay asleep for good.
WAKE_FLAG_SECONDS = 60


def partition_of(*, account_id: int) -> int:
    # accept_statement.py computes the same in SQL.
    return account_id % settings.SETTLEMENT_PARTITIONS


def partitions_lock(*, partitions: Iterable[int]) -> None:
    """Takes the advisory lock of each partition, in ascending order, until the current
    transaction ends; waits while another settler holds one. Re-entrant within a transaction.

    On SQLite (the embedded demo mode) this does nothing: BEGIN IMMEDIATE already lets one
    writer at a time in, and the demo runs a single worker process.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for partition in sorted(set(partitions)):
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, partition]
            )


def _wake_flag(partition: int) -> str:
    return f"vaultpay:settle:awake:{partition}"


def partition_wake(*, partition: int) -> None:
    """Asks a worker to drain `partition` unless one has been asked and has not started yet.

    Call after the commit that made the transfers visible (transaction.on_commit), so the
    settler is sure to see them. Made for request paths: never raises for a Redis or broker
    outage and gives up within about half a second (a frozen Redis); the sweep wakes the
    partition once Redis is back. A flag set for a wake-up that could not be published is
    cleared, so the next accept tries again.
    """
    flag = _wake_flag(partition)
    try:
        if redis_client().set(flag, 1, nx=True, ex=WAKE_FLAG_SECONDS):
            try:
                send_task_from_request(SETTLE_TASK, args=[partition])
            except BROKER_UNAVAILABLE_ERRORS:
                redis_client().delete(flag)
                raise
    except (*UNAVAILABLE_ERRORS, *BROKER_UNAVAILABLE_ERRORS) as error:
        logger.warning("Partition %s not woken (%s); the sweep will wake it", partition, error)


def partition_wake_now(*, partition: int) -> None:
    """Publishes a drain task for `partition` whatever its flag says (the sweep's path, and
    a settler handing its partition on), with the worker's patient publish retries."""
    celery_app.send_task(SETTLE_TASK, args=[partition])


def partition_wake_clear(*, partition: int) -> None:
    """Called by the settler once the partition reads empty, before it reads it once more:
    a transfer committed before the clear is settled by that read, one committed after it
    wakes the partition again, so none is left for the sweep."""
    redis_client().delete(_wake_flag(partition))


def partitions_with_stale_pending(*, older_than_seconds: int) -> list[int]:
    """The partitions holding a PENDING transfer accepted more than `older_than_seconds` ago."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = Transfer.objects.filter(status=Transfer.Status.PENDING, created_at__lt=cutoff)
    return sorted(stale.values_list("partition", flat=True).distinct())
