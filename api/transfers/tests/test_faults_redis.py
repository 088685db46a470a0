"""A Redis outage under the real stack: granian serving the WSGI app (the Procfile's `web`),
a Celery worker and beat, on PostgreSQL, with a Redis server of the test's own that is
killed (and restarted empty) or frozen (SIGSTOP) and thawed, also while the worker holds a
delivered, unacknowledged task."""

import contextlib
import time
import uuid

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections

from api.transfers.partitions import partition_of
from api.transfers.settlement import ADVISORY_LOCK_NAMESPACE
from api.transfers.tests.faults import RecordingClient, assert_settled
from api.transfers.tests.worker import BeatProcess, WorkerProcess
from realtime.tests.processes import WsgiServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ledger_audited")]

# Beat sweeps every 5 s for transfers PENDING over 5 s; workers retry the broker 2, 4, 6 s
# apart; the rest is margin for a shared machine.
SETTLED_WITHIN = 45


@pytest.fixture
def worker(tmp_path):
    """Two pool slots: with a task in hand, the free one keeps a BRPOP in flight."""
    return WorkerProcess(concurrency=2, log=tmp_path / "worker.log")


@pytest.fixture
def stack(private_redis, worker, tmp_path):
    """The web, worker and beat processes; each is stopped at the end whatever happened."""
    web = WsgiServer(log=tmp_path / "web.log")
    beat = BeatProcess(log=tmp_path / "beat.log")
    with contextlib.ExitStack() as stop:
        for process in (web, worker, beat):
            stop.callback(process.stop)
            process.start()
        stop.callback(private_redis.thaw)  # first (last in, first out): frozen, stops stall
        yield RecordingClient(web)


@pytest.fixture
def people(make_wallet):
    alice, bob, staff = make_wallet(balance=1_000_000), make_wallet(), make_wallet()
    staff.user.is_staff = True
    staff.user.save(update_fields=["is_staff"])
    return alice, bob, staff


def exercise_without_redis(client: RecordingClient, alice, bob, staff) -> None:
    """Every kind of request, a few times over, so each web process meets the outage more
    than once."""
    for _ in range(3):
        key = uuid.uuid4().hex
        new = client.pay(sender=alice, receiver=bob, key=key)
        assert new.status == 202, new
        replay = client.pay(sender=alice, receiver=bob, key=key)
        assert replay.status == 200 and replay.body["id"] == new.body["id"], replay
        assert client.pay(sender=alice, receiver=bob, currency="INR").status == 202  # full path
        assert client.deposit(staff=staff, receiver=bob).status == 202
        for path in (
            "/api/wallet/balance/",
            "/api/wallet/history/",
            f"/api/wallet/transfers/{new.body['id']}/",
            "/api/wallet/cashflow/?days=7",
        ):
            assert client.call("GET", path, user=alice.user).status == 200, path
        ticket = client.call("POST", "/api/realtime/ticket/", user=alice.user)
        assert ticket.status == 503 and ticket.body["error"]["code"] == "service_unavailable"
        assert int(ticket.headers["Retry-After"]) > 0
        ready = client.call("GET", "/readyz")
        assert ready.status == 503 and "redis" in ready.body["error"]["fields"], ready
        assert int(ready.headers["Retry-After"]) > 0


@pytest.mark.parametrize(("fault", "recovery"), [("kill", "start"), ("freeze", "thaw")])
def test_redis_down_or_frozen_accepts_and_reads_go_on_and_settlement_resumes(
    stack, private_redis, people, fault, recovery
):
    alice, bob, staff = people
    before = stack.pay(sender=alice, receiver=bob)
    assert before.status == 202
    assert_settled(stack.accepted, within=SETTLED_WITHIN)

    getattr(private_redis, fault)()
    exercise_without_redis(stack, alice, bob, staff)
    getattr(private_redis, recovery)()  # a killed Redis comes back empty: its queue is lost

    assert_settled(stack.accepted, within=SETTLED_WITHIN)
    assert {a.status for a in stack.answers} == {200, 202, 503}
    unavailable = {a.request for a in stack.answers if a.status == 503}
    assert unavailable == {"POST /api/realtime/ticket/", "GET /readyz"}
    # At most two 250 ms timeouts per request (one per process and second after the first);
    # the rest is margin for a machine shared with other tests.
    slowest = max(stack.answers, key=lambda a: a.seconds)
    assert slowest.seconds < 1.0, slowest
    ticket = stack.call("POST", "/api/realtime/ticket/", user=alice.user)
    assert ticket.status == 200  # Redis is back for what needs it


@contextlib.contextmanager
def partition_held(partition: int):
    """Holds the partition's advisory lock on a database connection of its own, as a settler
    in the middle of a drain would: a settle task for it waits, delivered and unacknowledged."""
    holder = connections.create_connection(DEFAULT_DB_ALIAS)
    holder.set_autocommit(False)
    try:
        with holder.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, partition]
            )
        yield
    finally:
        holder.rollback()
        holder.close()


def wait_for_settler_waiting(timeout: float = 30) -> None:
    """Returns once a settle task is running and waits for a partition's advisory lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
            )
            if cursor.fetchone()[0]:
                return
            assert time.monotonic() < deadline, "no settle task waits for the partition"
            time.sleep(0.05)


@pytest.mark.parametrize("task_ends", ["during the outage", "once Redis is back"])
def test_a_worker_holding_an_unacknowledged_task_reconnects_after_a_redis_crash(
    stack, worker, private_redis, people, make_wallet, task_ends
):
    alice, bob, _ = people
    carol = make_wallet(balance=1_000_000, apart_from=alice)
    assert partition_of(account_id=carol.pk) != partition_of(account_id=alice.pk)
    with contextlib.ExitStack() as held:
        held.enter_context(partition_held(partition_of(account_id=alice.pk)))
        assert stack.pay(sender=alice, receiver=bob).status == 202
        wait_for_settler_waiting()
        private_redis.kill()
        time.sleep(3)  # the worker meets the outage with the task in hand
        if task_ends == "during the outage":
            held.close()
            time.sleep(1)
        private_redis.start()  # empty: the queued and unacknowledged messages are gone
    # A worker that gave up logs this and shuts down, which may take it a while.
    assert "Unrecoverable error" not in worker.log.read_text(), worker.log.read_text()
    assert worker.process.poll() is None, worker.log.read_text()
    # A partition the task in hand does not drain: only a reconnected worker settles it.
    assert stack.pay(sender=carol, receiver=bob).status == 202

    assert_settled(stack.accepted, within=SETTLED_WITHIN)
    assert worker.process.poll() is None, worker.log.read_text()
