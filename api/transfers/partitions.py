"""The settlement partition protocol: how partitions are woken, drained and swept.

Senders hash into SETTLEMENT_PARTITIONS partitions. One settler at a time drains a partition,
in acceptance (id) order, under the partition's advisory lock (settlement.py); so a sender's
transfers settle first-in, first-out however many workers run.

Waking: an accept publishes a SETTLE_TASK for partition p only when p is not already awake (a
Redis SET NX flag), so under load most accepts publish nothing. The worker's task is a thin
entry point registered under SETTLE_TASK that calls `partition_drain`.

Draining: the settler stays on its partition while work arrives. After a batch smaller than
SETTLEMENT_BATCH_SIZE it waits a little, longer after larger batches up to
SETTLEMENT_LINGER_MS, so that batches grow with the load; once the partition has read empty
for SETTLEMENT_IDLE_MS it clears the flag and settles once more, which takes any transfer
committed before the clear (one committed after it wakes the partition again). A drain
still busy after DRAIN_SECONDS hands the partition to a new task at the back of the queue,
so partitions cannot keep one another from the workers for long.

Sweeping: beat wakes partitions whose PENDING transfers have waited too long, whatever their
flag says, which covers lost messages, crashed workers and a Redis restart.
"""

import logging
import time
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from api.config.celery import BROKER_UNAVAILABLE_ERRORS, send_task_from_request
from api.config.celery import app as celery_app
from api.core.metrics.catalogue import SWEEP_WAKES
from api.core.metrics.store import mark
from api.core.redis import UNAVAILABLE_ERRORS, redis_client
from api.transfers.models import Transfer
from api.transfers.settlement import partition_settle_batch

logger = logging.getLogger(__name__)
sweep_logger = structlog.get_logger("vaultpay.settlement")

# The name the worker registers its drain task under (workers/tasks.py imports it).
SETTLE_TASK = "workers.tasks.settle_partition"
# A flag left behind by a lost task expires, so a partition can never stay asleep for good.
WAKE_FLAG_SECONDS = 60
# A settler at work holds the flag for this long at a time, renewed by each task of the
# partition (every DRAIN_SECONDS at most): a settler killed mid-drain leaves a flag that
# expires within seconds, and the next accept wakes the partition again.
SETTLER_FLAG_SECONDS = 2
# How long one task drains a partition before it hands it on.
DRAIN_SECONDS = 0.5
# How a settler paces itself between batches (see `_settle_while_busy`).
LINGER_PER_TRANSFER_SECONDS = 0.002
# An empty partition is looked at after 1 ms, then 2, 4 and 8 ms apart: a transfer arriving
# soon after the last waits little, and a slow trickle costs a few reads per transfer, not one
# every millisecond.
IDLE_POLL_SECONDS = (0.001, 0.002, 0.004, 0.008)


def partition_of(*, account_id: int) -> int:
    # accept_statement.py computes the same in SQL.
    return account_id % settings.SETTLEMENT_PARTITIONS


def _wake_flag(partition: int) -> str:
    return f"vaultpay:settle:awake:{partition}"


def partition_wake(*, partition: int) -> None:
    """Asks a worker to drain `partition` unless a settler is on it or has been asked.

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
    """Lets the next accept wake `partition` (see `partition_drain`)."""
    redis_client().delete(_wake_flag(partition))


def partition_drain(*, partition: int) -> int:
    """Settles the partition's PENDING transfers, a batch per transaction, while work arrives,
    and returns how many it finished. Safe to run twice or concurrently: the partition's
    advisory lock admits one settler at a time and settlement is a compare-and-set on status.

    The wake flag stays set while the drain runs (renewed for SETTLER_FLAG_SECONDS), so
    transfers accepted meanwhile publish no task of their own. Once the partition has been
    idle for SETTLEMENT_IDLE_MS the flag is cleared and the partition read once more; a drain
    that reaches DRAIN_SECONDS hands the partition to a new task instead.
    """
    deadline = time.monotonic() + DRAIN_SECONDS
    _flag_hold(partition)
    total, idle = _settle_while_busy(
        partition=partition, deadline=deadline, idle_seconds=settings.SETTLEMENT_IDLE_MS / 1000
    )
    if not idle:
        partition_wake_now(partition=partition)
        return total
    partition_wake_clear(partition=partition)
    settled, _ = _settle_while_busy(
        partition=partition, deadline=deadline + DRAIN_SECONDS, idle_seconds=0
    )
    return total + settled


def _flag_hold(partition: int) -> None:
    try:
        redis_client().set(_wake_flag(partition), 1, ex=SETTLER_FLAG_SECONDS)
    except UNAVAILABLE_ERRORS as error:
        # Draining goes on: at worst an accept publishes a task this settler did not need.
        logger.warning("Partition %s flag not renewed (%s)", partition, error)


def _settle_while_busy(*, partition: int, deadline: float, idle_seconds: float) -> tuple[int, bool]:
    """Settles batches until the partition has read empty for `idle_seconds` (True) or
    `deadline` passes (False).

    After a batch of n transfers (fewer than the batch size) the settler waits n x
    LINGER_PER_TRANSFER_SECONDS, at most SETTLEMENT_LINGER_MS: at a low rate batches of one
    go at once, and as the rate rises the waits grow with the batches, which keeps the fixed
    cost of a batch (a transaction, a few statements, a publication) shared by many
    transfers. An empty partition is looked at IDLE_POLL_SECONDS apart with one cheap read
    outside any transaction, so an idle wait takes no lock.
    """
    limit = settings.SETTLEMENT_BATCH_SIZE
    max_linger = settings.SETTLEMENT_LINGER_MS / 1000
    total = 0
    idle_from = time.monotonic()
    empty_looks = 0
    work_seen = True  # woken for work, or the last batch found some: settle without looking
    while time.monotonic() < deadline:
        settled = 0
        if work_seen or _has_pending(partition):
            with transaction.atomic(durable=True):
                settled = partition_settle_batch(partition=partition, limit=limit)
            total += settled
        work_seen = settled > 0
        if work_seen:
            idle_from = time.monotonic()
            empty_looks = 0
            if settled < limit:
                time.sleep(min(max_linger, settled * LINGER_PER_TRANSFER_SECONDS))
        elif time.monotonic() - idle_from >= idle_seconds:
            return total, True
        else:
            time.sleep(IDLE_POLL_SECONDS[min(empty_looks, len(IDLE_POLL_SECONDS) - 1)])
            empty_looks += 1
    return total, False


def _has_pending(partition: int) -> bool:
    # Raw SQL: a settler reads this hundreds of times a second, and compiling the ORM query
    # cost more than running it (the partial index transfer_pending answers it).
    with connection.cursor() as cursor:
        cursor.execute(_HAS_PENDING_SQL, [partition, Transfer.Status.PENDING])
        return cursor.fetchone() is not None


_HAS_PENDING_SQL = (
    f"SELECT 1 FROM {Transfer._meta.db_table} WHERE partition = %s AND status = %s LIMIT 1"  # noqa: S608
)


def partitions_sweep() -> list[int]:
    """Wakes every partition holding a PENDING transfer older than
    SETTLEMENT_SWEEP_AFTER_SECONDS, whatever its wake flag says, and returns them. Marks the
    sweep's time in the metrics (beat's heartbeat) and logs the partitions it woke."""
    cutoff = timezone.now() - timedelta(seconds=settings.SETTLEMENT_SWEEP_AFTER_SECONDS)
    stale = Transfer.objects.filter(status=Transfer.Status.PENDING, created_at__lt=cutoff)
    partitions = sorted(stale.values_list("partition", flat=True).distinct())
    for partition in partitions:
        partition_wake_now(partition=partition)
    SWEEP_WAKES.inc(len(partitions))
    mark("vaultpay_settlement_sweep_last_run_timestamp_seconds", time.time())
    # Nothing to wake is the usual case: a line at INFO only when the sweep had to recover.
    log = sweep_logger.info if partitions else sweep_logger.debug
    log("settlement sweep", woken=partitions, older_than_s=settings.SETTLEMENT_SWEEP_AFTER_SECONDS)
    return partitions
