"""Celery tasks. Each takes ids, calls `api` services, and owns its retry policy."""

import time

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, transaction

from api.transfers.partitions import (
    partition_wake_clear,
    partition_wake_now,
    partitions_with_stale_pending,
)
from api.transfers.services import partition_settle_batch

# How long one task drains a partition before it yields the worker to other partitions.
DRAIN_SECONDS = 2.0


@shared_task(
    acks_late=True,
    autoretry_for=(DatabaseError,),
    max_retries=5,
    retry_backoff=True,
    retry_backoff_max=30,
)
def settle_partition(partition: int) -> int:
    """Drains one settlement partition, a batch per transaction, and returns how many
    transfers it finished. Safe to run twice or concurrently: the partition's advisory lock
    admits one settler at a time and settlement is a compare-and-set on status. A database
    error (a dropped connection, a failover) retries the whole drain with backoff; batches
    already committed stay committed.

    The wake flag stays set while the drain runs, so transfers accepted meanwhile publish no
    task of their own: under load one task settles many batches. Once the partition reads
    empty the flag is cleared and the partition read once more, which settles any transfer
    committed before the clear; one committed after it wakes the partition again. A drain
    that runs out of its time with work left hands the partition to a new task at the back
    of the queue, so hot partitions cannot keep every worker from the others.
    """
    deadline = time.monotonic() + DRAIN_SECONDS
    total, finished = _drain(partition=partition, deadline=deadline)
    if not finished:
        partition_wake_now(partition=partition)
        return total
    partition_wake_clear(partition=partition)
    settled, _ = _drain(partition=partition, deadline=deadline + DRAIN_SECONDS)
    return total + settled


def _drain(*, partition: int, deadline: float) -> tuple[int, bool]:
    """Settles batches until one finds nothing (True) or `deadline` passes (False)."""
    total = 0
    while time.monotonic() < deadline:
        with transaction.atomic(durable=True):
            settled = partition_settle_batch(
                partition=partition, limit=settings.SETTLEMENT_BATCH_SIZE
            )
        if not settled:
            return total, True
        total += settled
    return total, False


@shared_task
def settlement_sweep() -> list[int]:
    """Beat, every few seconds: wakes every partition holding a PENDING transfer older than
    SETTLEMENT_SWEEP_AFTER_SECONDS, whatever its wake flag says. This is the recovery path for
    a crash between commit and publish, a lost message, a worker killed mid-batch or a Redis
    restart; the drain also expires transfers older than TRANSFER_TTL."""
    partitions = partitions_with_stale_pending(
        older_than_seconds=settings.SETTLEMENT_SWEEP_AFTER_SECONDS
    )
    for partition in partitions:
        partition_wake_now(partition=partition)
    return partitions
