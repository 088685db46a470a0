"""What a settlement batch tells the operator: one INFO line with its partition, count,
duration, outcomes and the request ids its transfers were accepted with (continued on further
lines past REQUEST_IDS_PER_LINE), a warning for expiries, and the metrics, all once the batch
has committed."""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction

from api.core import clock
from api.core.metrics.catalogue import PROCESS
from api.transfers.idempotency import transfer_fingerprint
from api.transfers.models import Transfer
from api.transfers.services import transfer_create_pending
from api.transfers.settlement import partition_settle_batch
from api.transfers.telemetry import REQUEST_IDS_PER_LINE

pytestmark = pytest.mark.django_db(transaction=True)


def accept(sender, receiver, amount: int, request_id: str | None) -> Transfer:
    with transaction.atomic(durable=True):
        transfer, _ = transfer_create_pending(
            sender=sender,
            receiver=receiver,
            amount=amount,
            idempotency_key=uuid.uuid4().hex,
            fingerprint=transfer_fingerprint(
                receiver_email=receiver.user.email, amount=amount, note=""
            ),
            request_id=request_id,
        )
    return transfer


def drain(partition: int) -> int:
    with transaction.atomic(durable=True):
        return partition_settle_batch(partition=partition, limit=1000)


def sample(name: str, **labels) -> float:
    return PROCESS.get_sample_value(name, labels) or 0.0


def batch_lines(log_lines, since: int = 0) -> list[dict]:
    """The settlement lines logged after the first `since` lines."""
    return [line for line in log_lines()[since:] if line["logger"] == "vaultpay.settlement"]


def test_a_batch_is_one_line_with_its_outcomes_and_request_ids(make_wallet, log_lines):
    sender, receiver = make_wallet(balance=1_000), make_wallet()
    first = accept(sender, receiver, 600, "req-1")
    accept(sender, receiver, 600, "req-2")  # insufficient by then
    accept(sender, receiver, 100, None)
    settled = sample("vaultpay_transfers_settled_total", status="SUCCESS")
    failed = sample("vaultpay_transfers_failed_total", failure_code="insufficient_funds")
    batches = sample("vaultpay_settle_batch_size_count")
    latencies = sample("vaultpay_transfer_settle_latency_seconds_count")
    since = len(log_lines())

    assert drain(first.partition) == 3

    (line,) = [line for line in batch_lines(log_lines, since) if line["level"] == "info"]
    assert line["event"] == "settlement batch"
    assert line["partition"] == first.partition
    assert line["count"] == 3
    assert line["outcomes"] == {"SUCCESS": 2, "insufficient_funds": 1}
    assert line["request_ids"] == ["req-1", "req-2"]
    assert line["first_id"] == first.pk and line["last_id"] == first.pk + 2
    assert 0 < line["duration_ms"] < 60_000
    settled_lines = [x for x in batch_lines(log_lines, since) if x["event"] == "transfer settled"]
    assert [(x["transfer_request_id"], x["status"]) for x in settled_lines] == [
        ("req-1", "SUCCESS"),
        ("req-2", "FAILED"),
        (None, "SUCCESS"),
    ]
    assert sample("vaultpay_transfers_settled_total", status="SUCCESS") == settled + 2
    assert (
        sample("vaultpay_transfers_failed_total", failure_code="insufficient_funds") == failed + 1
    )
    assert sample("vaultpay_settle_batch_size_count") == batches + 1
    assert sample("vaultpay_transfer_settle_latency_seconds_count") == latencies + 3


def test_a_rolled_back_batch_reports_nothing(make_wallet, log_lines):
    sender, receiver = make_wallet(balance=1_000), make_wallet()
    transfer = accept(sender, receiver, 100, "req-rolled-back")
    batches = sample("vaultpay_settle_batch_size_count")
    since = len(log_lines())

    with pytest.raises(RuntimeError), transaction.atomic(durable=True):
        partition_settle_batch(partition=transfer.partition, limit=10)
        raise RuntimeError

    assert batch_lines(log_lines, since) == []
    assert sample("vaultpay_settle_batch_size_count") == batches


def test_a_large_batch_continues_its_request_ids_on_further_lines(make_wallet, log_lines):
    sender, receiver = make_wallet(balance=10_000), make_wallet()
    count = REQUEST_IDS_PER_LINE * 2 + 5
    request_ids = [f"req-{n:03}" for n in range(count)]
    transfers = [accept(sender, receiver, 1, request_id) for request_id in request_ids]
    since = len(log_lines())

    assert drain(transfers[0].partition) == count

    lines = [x for x in batch_lines(log_lines, since) if x["level"] == "info"]
    assert [x["event"] for x in lines] == [
        "settlement batch",
        "settlement batch continued",
        "settlement batch continued",
    ]
    assert [len(x["request_ids"]) for x in lines] == [REQUEST_IDS_PER_LINE] * 2 + [5]
    assert [i for x in lines for i in x["request_ids"]] == request_ids
    assert {x["first_id"] for x in lines} == {transfers[0].pk}


def test_expiries_are_a_warning(make_wallet, log_lines, settings):
    sender, receiver = make_wallet(balance=1_000), make_wallet()
    with clock.clock_set(clock.now() - timedelta(seconds=settings.TRANSFER_TTL_SECONDS + 5)):
        stale = accept(sender, receiver, 100, "req-stale")
    since = len(log_lines())

    drain(stale.partition)

    (warning,) = [x for x in batch_lines(log_lines, since) if x["level"] == "warning"]
    assert (warning["event"], warning["count"], warning["first_id"]) == (
        "transfers expired",
        1,
        stale.pk,
    )
