"""Celery tasks: thin entry points that take ids, call `api` services, and own their retry
policy."""

from celery import shared_task
from django.db import DatabaseError

from api.transfers.audit import ledger_audit_quick_run
from api.transfers.partitions import SETTLE_TASK, partition_drain, partitions_sweep


@shared_task(
    name=SETTLE_TASK,
    acks_late=True,
    autoretry_for=(DatabaseError,),
    max_retries=5,
    retry_backoff=True,
    retry_backoff_max=30,
)
def settle_partition(partition: int) -> int:
    """Drains one settlement partition (api/transfers/partitions.py) and returns how many
    transfers it finished. A database error (a dropped connection, a failover) retries the
    whole drain with backoff; batches already committed stay committed."""
    return partition_drain(partition=partition)


@shared_task
def settlement_sweep() -> list[int]:
    """Beat, every few seconds: wakes every partition holding a PENDING transfer older than
    SETTLEMENT_SWEEP_AFTER_SECONDS, whatever its wake flag says. This is the recovery path for
    a crash between commit and publish, a lost message, a worker killed mid-batch or a Redis
    restart; the drain also expires transfers older than TRANSFER_TTL."""
    return partitions_sweep()


@shared_task
def ledger_audit_quick() -> int:
    """Beat, every minute: the ledger audit's cheap checks, for the metrics
    (`vaultpay_ledger_audit_violations`); returns how many violations it found."""
    return len(ledger_audit_quick_run())
