"""What settlement tells the operator: one log line and a few metric updates per batch
(README, "Operating it"), never a line per transfer at INFO, since a settler may finish
hundreds of batches a second.

The batch line carries the request ids of its transfers (stored with each transfer at
accept), so that a client's request can be followed to the batch that settled it; a batch of
more than REQUEST_IDS_PER_LINE transfers continues its ids on further lines, keeping every
line short enough for log shippers (Docker splits lines past 16 KiB). At DEBUG, each
transfer also gets a line of its own.
"""

import logging
import time
from collections import Counter

import structlog

from api.core.metrics.catalogue import (
    SETTLE_BATCH_DURATION,
    SETTLE_BATCH_SIZE,
    SETTLE_LATENCY,
    TRANSFERS_FAILED,
    TRANSFERS_SETTLED,
)
from api.transfers.models import Transfer

REQUEST_IDS_PER_LINE = 100

logger = structlog.get_logger("vaultpay.settlement")


def batch_settled(*, transfers: list[Transfer], started: float) -> None:
    """Reports a committed batch: `transfers` as settled, `started` the time.perf_counter()
    at which the batch began locking them. Call after the commit."""
    seconds = time.perf_counter() - started
    outcomes = Counter(str(t.failure_code or t.status) for t in transfers)
    for status, count in Counter(str(t.status) for t in transfers).items():
        TRANSFERS_SETTLED.labels(status).inc(count)
    for transfer in transfers:
        if transfer.failure_code:
            TRANSFERS_FAILED.labels(str(transfer.failure_code)).inc()
        SETTLE_LATENCY.observe((transfer.settled_at - transfer.created_at).total_seconds())
    SETTLE_BATCH_SIZE.observe(len(transfers))
    SETTLE_BATCH_DURATION.observe(seconds)

    partitions = sorted({t.partition for t in transfers})
    where = {"partition": partitions[0]} if len(partitions) == 1 else {"partitions": partitions}
    request_ids = [t.request_id for t in transfers if t.request_id]
    first_id = transfers[0].pk
    logger.info(
        "settlement batch",
        **where,
        count=len(transfers),
        duration_ms=round(seconds * 1000, 2),
        outcomes=dict(outcomes),
        first_id=first_id,
        last_id=transfers[-1].pk,
        request_ids=request_ids[:REQUEST_IDS_PER_LINE],
    )
    for start in range(REQUEST_IDS_PER_LINE, len(request_ids), REQUEST_IDS_PER_LINE):
        logger.info(
            "settlement batch continued",
            **where,
            first_id=first_id,
            request_ids=request_ids[start : start + REQUEST_IDS_PER_LINE],
        )
    expired = outcomes.get(Transfer.FailureCode.EXPIRED, 0)
    if expired:
        logger.warning("transfers expired", **where, count=expired, first_id=first_id)
    if logger.is_enabled_for(logging.DEBUG):
        for transfer in transfers:
            logger.debug(
                "transfer settled",
                transfer=str(transfer.uuid),
                transfer_request_id=transfer.request_id,
                status=str(transfer.status),
                failure_code=transfer.failure_code and str(transfer.failure_code),
            )
