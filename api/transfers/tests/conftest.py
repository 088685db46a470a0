import pytest

from api.accounts.tests.factories import wallet_create
from api.transfers.tests.helpers import deposit
from api.transfers.tests.worker import WorkerProcess


@pytest.fixture
def make_wallet():
    """make_wallet(balance=0, is_active=True, full_name="") -> a user's wallet, funded from
    the treasury with `balance` paise."""

    def make(*, balance: int = 0, is_active: bool = True, full_name: str = ""):
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
def settlement_worker(transactional_db, tmp_path):
    """start(concurrency=2) -> a running Celery worker process settling from the test
    database; stopped (or already killed) at the end of the test."""
    workers: list[WorkerProcess] = []

    def start(*, concurrency: int = 2) -> WorkerProcess:
        worker = WorkerProcess(concurrency=concurrency, log=tmp_path / f"worker{len(workers)}.log")
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()
