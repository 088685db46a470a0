"""A PostgreSQL outage under the real stack: granian serving the WSGI app, a Celery worker
and beat, on a PostgreSQL cluster of the test's own that crashes (immediate stop) and, later,
shuts down cleanly for a few seconds; Redis is the test's own too."""

import contextlib
import io
import time

import pytest
from django.core.management import call_command
from django.db import connections

from api.core.tests.servers import PostgresCluster
from api.transfers.models import Transfer
from api.transfers.tests.faults import RecordingClient, assert_settled
from api.transfers.tests.worker import BeatProcess, WorkerProcess
from realtime.tests.processes import WsgiServer

SETTLED_WITHIN = 60
RESUMED_WITHIN = 30


@pytest.fixture
def cluster(django_db_blocker):
    """A migrated database on a cluster of the test's own, used for the test by this process
    (the default alias) and by every process the test starts."""
    server = PostgresCluster().init().start()
    try:
        server.create_database("vaultpay")
        live = connections["default"]
        settings_dict = {**live.settings_dict, "NAME": "vaultpay", "PORT": str(server.port)}
        private = live.__class__(settings_dict, "default")
        connections["default"] = private
        try:
            with django_db_blocker.unblock():
                call_command("migrate", verbosity=0)
                yield server
        finally:
            private.close()
            connections["default"] = live
    finally:
        server.remove()


@pytest.fixture
def stack(cluster, private_redis, tmp_path):
    web = WsgiServer(log=tmp_path / "web.log")
    worker = WorkerProcess(concurrency=1, log=tmp_path / "worker.log")
    beat = BeatProcess(log=tmp_path / "beat.log")
    with contextlib.ExitStack() as stop:
        for process in (web, worker, beat):
            stop.callback(process.stop)
            process.start()
        yield RecordingClient(web)


@pytest.fixture
def people(cluster, make_wallet):
    alice, bob, staff = make_wallet(balance=1_000_000), make_wallet(), make_wallet()
    staff.user.is_staff = True
    staff.user.save(update_fields=["is_staff"])
    return alice, bob, staff


def accept_some(client: RecordingClient, alice, bob, staff) -> None:
    for _ in range(5):
        assert client.pay(sender=alice, receiver=bob).status == 202
        assert client.pay(sender=alice, receiver=bob, currency="INR").status == 202
    assert client.deposit(staff=staff, receiver=bob).status == 202


def assert_unavailable(client: RecordingClient, alice, bob, staff) -> None:
    """Every endpoint that needs the database answers 503 service_unavailable in the
    envelope, with Retry-After; what needs nothing still answers."""
    answers = [
        client.pay(sender=alice, receiver=bob),  # the hot path
        client.pay(sender=alice, receiver=bob, currency="INR"),  # the full path
        client.deposit(staff=staff, receiver=bob),
        client.call("GET", "/api/wallet/balance/", user=alice.user),
        client.call("GET", "/api/wallet/history/", user=alice.user),
        client.call("POST", "/api/users/login/", body={"email": "x@example.in", "password": "x"}),
    ]
    for answer in answers:
        assert answer.status == 503, answer
        assert answer.body["error"]["code"] == "service_unavailable", answer
        assert int(answer.headers["Retry-After"]) > 0, answer
    ready = client.call("GET", "/readyz")
    assert ready.status == 503 and set(ready.body["error"]["fields"]) == {"database"}, ready
    assert client.call("GET", "/healthz").status == 200


def wait_until_accepting(client: RecordingClient, alice, bob) -> None:
    """Service resumes by itself: no process of the stack is restarted. (This test process
    only drops the connection the outage broke, to read the database afterwards.)"""
    connections["default"].close()
    deadline = time.monotonic() + RESUMED_WITHIN
    while client.pay(sender=alice, receiver=bob).status != 202:
        assert time.monotonic() < deadline, client.answers[-1]
        time.sleep(0.5)


@pytest.mark.usefixtures("private_redis")
def test_postgresql_crash_and_shutdown_answer_503_and_service_resumes(cluster, stack, people):
    alice, bob, staff = people
    accept_some(stack, alice, bob, staff)

    cluster.stop("immediate")  # a crash: recovery from the WAL at the next start
    assert_unavailable(stack, alice, bob, staff)
    cluster.start()
    wait_until_accepting(stack, alice, bob)
    accept_some(stack, alice, bob, staff)

    cluster.stop("fast")
    assert_unavailable(stack, alice, bob, staff)
    time.sleep(3)
    assert_unavailable(stack, alice, bob, staff)
    cluster.start()
    wait_until_accepting(stack, alice, bob)
    accept_some(stack, alice, bob, staff)

    # Every transfer answered 202 survived the crash and settles; nothing else was stored.
    assert_settled(stack.accepted, within=SETTLED_WITHIN)
    assert Transfer.objects.filter(kind=Transfer.Kind.PAYMENT).count() == len(
        [a for a in stack.answers if a.status == 202 and "transfer" in a.request]
    )
    assert {a.status for a in stack.answers} <= {200, 202, 503}
    out = io.StringIO()
    call_command("ledger_audit", stdout=out)
    assert out.getvalue().startswith("ledger OK"), out.getvalue()
