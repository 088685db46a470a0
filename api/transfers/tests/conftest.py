import io

import pytest
from django.core.management import call_command

from api.accounts.tests.factories import wallet_create
from api.transfers.partitions import partition_of
from api.transfers.tests.helpers import broker_reset, deposit
from api.transfers.tests.worker import WorkerProcess


@pytest.fixture
def make_wallet():
    """make_wallet(balance=0, is_active=True, full_name="", apart_from=None) -> a user's
    wallet, funded from the treasury with `balance` paise; in another settlement partition
    than the account `apart_from` when given."""

    def make(*, balance: int = 0, is_active: bool = True, full_name: str = "", apart_from=None):
        wallet = wallet_create(full_name=full_name)
        while apart_from is not None and partition_of(account_id=wallet.pk) == partition_of(
            account_id=apart_from.pk
        ):
            wallet = wallet_create(full_name=full_name)
        if balance:
            deposit(account=wallet, amount=balance)
        if not is_active:
            wallet.user.is_active = False
            wallet.user.save(update_fields=["is_active"])
        wallet.refresh_from_db()
        return wallet

    return make


@pytest.fixture
def ledger_audited():
    """The test ends with a clean `ledger_audit` (every ledger invariant)."""
    yield
    out = io.StringIO()
    call_command("ledger_audit", stdout=out)
    assert out.getvalue().startswith("ledger OK"), out.getvalue()


@pytest.fixture
def settlement_worker(transactional_db, tmp_path, monkeypatch):
    """start(concurrency=2, env={}) -> a running Celery worker process settling from the test
    database, with `env` added to its environment (e.g. SETTLEMENT_BATCH_SIZE); stopped (or
    already killed) at the end of the test. The broker starts empty: messages and wake flags
    left by earlier tests (whose rows are gone) are dropped first."""
    workers: list[WorkerProcess] = []
    broker_reset()

    def start(*, concurrency: int = 2, env: dict[str, str] | None = None) -> WorkerProcess:
        with monkeypatch.context() as patch:
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            worker = WorkerProcess(
                concurrency=concurrency, log=tmp_path / f"worker{len(workers)}.log"
            )
            workers.append(worker)
            return worker.start()

    yield start
    for worker in workers:
        worker.stop()
