"""Celery tasks. Each takes ids, calls `api` services, and owns its retry policy."""

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, transaction

from api.transfers.partitions import (
    partition_wake_clear,
    partition_wake_now,
    partitions_with_stale_pending,
)
from api.transfers.services import partition_settle_batch


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
    already committed stay committed."""
    partition_wake_clear(partition=partition)
    batch_size = settings.SETTLEMENT_BATCH_SIZE
    total = 0
    while True:
        with transaction.atomic(durable=True):
            settled = partition_settle_batch(partition=partition, limit=batch_size)
        total += settled
        if settled < batch_size:
            return total


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
