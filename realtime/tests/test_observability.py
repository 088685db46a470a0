"""Metrics and logs of the real stack: the Procfile's `web` (granian) serving REST and
/metrics, its `ws` socket server, a Celery worker and beat, each a process of its own, against
the test database and Redis.

The metrics test holds the worker back until transfers are waiting, so that the backlog
gauge shows the real backlog, then lets it settle them. The logs test runs a whole session
(register, log in, refresh, reveal the Aadhaar number, pay, a socket) with every process at
LOG_FORMAT=json and DEBUG, and fails if any secret appears anywhere in what they wrote."""

import json
import time
import urllib.request
import uuid
from collections.abc import Callable

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rest_framework_simplejwt.tokens import AccessToken

from api.core.metrics import store
from api.transfers.models import Transfer
from api.transfers.tests.helpers import wait_settled
from api.transfers.tests.worker import BeatProcess
from api.users import aadhaar
from realtime.tests.processes import AsgiServer, Watcher, port_free_in, procfile_command

pytestmark = pytest.mark.django_db(transaction=True)

METRICS_TOKEN = "scrape-token-for-tests"
TIMEOUT = 60


class WebServer(AsgiServer):
    """The Procfile's `web` process (the REST API under granian, two worker processes)."""

    def _command(self) -> list[str]:
        return ["bash", "-c", f"exec {procfile_command('web')}"]

    def _env(self) -> dict[str, str]:
        return {"WEB_CONCURRENCY": "2"}


@pytest.fixture
def servers(tmp_path, monkeypatch):
    """start() -> (web, ws): the Procfile's web and socket servers on ports of this test's
    range, started with the environment as the test set it; both stopped at the end."""
    started = []

    def start() -> tuple[WebServer, AsgiServer]:
        monkeypatch.setenv("METRICS_TOKEN", METRICS_TOKEN)
        web = WebServer(log=tmp_path / "web.log")
        web.port = port_free_in(9600, 9649)
        ws = AsgiServer(log=tmp_path / "ws.log")
        ws.port = port_free_in(9650, 9699)
        started.extend([web.start(), ws.start()])
        return web, ws

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def beat(tmp_path):
    process = BeatProcess(log=tmp_path / "beat.log")
    yield process
    process.stop()


def scrape(web: WebServer) -> dict[tuple, float]:
    request = urllib.request.Request(  # noqa: S310 - a local http URL we built
        f"{web.base_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def eventually(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.25)


def pay(web: WebServer, token: str, receiver_email: str, request_id: str) -> str:
    status, body = web.call(
        "POST",
        "/api/wallet/transfer/",
        {"receiver_email": receiver_email, "amount": "10.00"},
        token=token,
        headers={"Idempotency-Key": uuid.uuid4().hex, "X-Request-ID": request_id},
    )
    assert (status, body["status"]) == (202, "PENDING"), body
    return body["id"]


def socket_of(ws: AsgiServer, token: str) -> tuple[Watcher, str]:
    status, ticket = ws.call("POST", "/api/realtime/ticket/", token=token)
    assert status == 200, ticket
    return Watcher(f"{ticket['url']}?ticket={ticket['ticket']}"), ticket["ticket"]


def test_metrics_follow_transfers_through_the_real_stack(
    servers, settlement_worker, beat, make_wallet, ledger_audited
):
    web, ws = servers()
    sender, receiver = make_wallet(balance=100_000), make_wallet()
    token = str(AccessToken.for_user(sender.user))
    watcher, _ = socket_of(ws, str(AccessToken.for_user(receiver.user)))
    assert watcher.wait_for(1) == [{"type": "hello", "seq": 0}]
    assert web.call("GET", "/metrics")[0] == 401
    assert web.call("GET", "/readyz?deep=1")[0] == 503  # no worker yet
    store.flush_now()  # this process's deposits are counted before the baseline
    time.sleep(store.FLUSH_SECONDS * 2)
    base = scrape(web)

    def grew(samples, name: str, **labels) -> float:
        key = (name, frozenset(labels.items()))
        return samples.get(key, 0.0) - base.get(key, 0.0)

    count = 12
    ids = [pay(web, token, receiver.user.email, f"obs-{n}") for n in range(count)]

    # No worker: the backlog gauge is the real backlog, and the accepts are counted (by the
    # web processes, which flush once a second).
    def backlogged() -> bool:
        samples = scrape(web)
        return (
            samples[("vaultpay_transfers_pending", frozenset())] == count
            and grew(samples, "vaultpay_transfers_accepted_total", kind="payment") == count
        )

    eventually(backlogged, "backlog and accepts counted")
    samples = scrape(web)
    assert samples[("vaultpay_transfers_pending_oldest_age_seconds", frozenset())] > 0
    created = {"view": "wallet:transfer-create", "method": "POST", "status": "202"}
    assert grew(samples, "vaultpay_http_requests_total", **created) == count
    assert samples[("vaultpay_sockets_open", frozenset())] == 1
    assert grew(samples, "vaultpay_transfers_settled_total", status="SUCCESS") == 0

    settlement_worker(concurrency=1)
    beat.start()
    wait_settled(ids)
    watcher.wait_for(1 + count + 1)  # hello, every transfer.updated, a balance.updated at least

    def settled_and_delivered() -> bool:
        samples = scrape(web)
        delivered = sum(
            grew(samples, "vaultpay_events_delivered_total", source=source)
            for source in ("live", "replay", "fill")
        )
        return (
            samples[("vaultpay_transfers_pending", frozenset())] == 0
            and grew(samples, "vaultpay_transfers_settled_total", status="SUCCESS") == count
            and delivered == len(watcher.events())
        )

    eventually(settled_and_delivered, "settled and delivered counted")
    samples = scrape(web)
    assert grew(samples, "vaultpay_transfer_settle_latency_seconds_count") == count
    assert grew(samples, "vaultpay_settle_batch_size_sum") == count
    batches = grew(samples, "vaultpay_settle_batch_size_count")
    assert 1 <= batches <= count
    assert grew(samples, "vaultpay_settle_batch_duration_seconds_count") == batches
    live = grew(samples, "vaultpay_events_delivered_total", source="live")
    assert grew(samples, "vaultpay_event_delivery_latency_seconds_count") == live > 0
    assert grew(samples, "vaultpay_transfers_failed_total", failure_code="insufficient_funds") == 0

    # The worker's heartbeat and beat's sweep.
    assert samples[("vaultpay_workers_alive", frozenset())] >= 1
    assert web.call("GET", "/readyz?deep=1")[0] == 200
    sweep = ("vaultpay_settlement_sweep_last_run_timestamp_seconds", frozenset())
    eventually(lambda: time.time() - scrape(web).get(sweep, 0) < 15, "a sweep marked")

    watcher.close()
    eventually(lambda: scrape(web)[("vaultpay_sockets_open", frozenset())] == 0, "socket closed")


def test_a_full_run_logs_json_lines_and_no_secret(
    servers, settlement_worker, monkeypatch, tmp_path, ledger_audited
):
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    web, ws = servers()
    settlement_worker(concurrency=1)
    secrets: list[str] = []
    password = "correct-horse-42"
    sessions = []
    for name in ("payer", "payee"):
        number = aadhaar.generate()
        secrets += [number, aadhaar.spaced(number)]
        email = f"{name}-{uuid.uuid4().hex[:6]}@example.in"
        status, _ = web.call(
            "POST",
            "/api/users/register/",
            {
                "email": email,
                "password": password,
                "full_name": name,
                "aadhaar": aadhaar.spaced(number),
            },
        )
        assert status == 201
        status, tokens = web.call(
            "POST", "/api/users/login/", {"email": email, "password": password}
        )
        assert status == 200
        status, rotated = web.call(
            "POST", "/api/users/token/refresh/", {"refresh": tokens["refresh"]}
        )
        assert status == 200
        secrets += [tokens["access"], tokens["refresh"], rotated["access"], rotated["refresh"]]
        sessions.append((email, rotated["access"], rotated["refresh"]))
    secrets.append(password)
    (_, payer_access, payer_refresh), (payee_email, payee_access, _) = sessions

    status, revealed = web.call(
        "POST", "/api/users/profile/reveal-aadhaar/", {"password": password}, token=payer_access
    )
    assert (status, revealed["aadhaar"]) == (200, secrets[1])
    wrong = "not-the-password-99"
    secrets.append(wrong)
    status, _ = web.call(
        "POST", "/api/users/profile/reveal-aadhaar/", {"password": wrong}, token=payer_access
    )
    assert status == 403
    status, _ = web.call("POST", "/api/users/login/", {"email": payee_email, "password": wrong})
    assert status == 401

    watcher, ticket = socket_of(ws, payee_access)
    secrets.append(ticket)
    request_ids = [f"full-run-{n}" for n in range(3)]
    ids = [pay(web, payer_access, payee_email, request_id) for request_id in request_ids]
    wait_settled(ids)
    watcher.wait_for(1 + 3 + 1)
    second, _ = socket_of(ws, payee_access)
    second.wait_for(1)
    watcher.close()
    second.close()
    status, _ = web.call(
        "POST", "/api/users/logout/", {"refresh": payer_refresh}, token=payer_access
    )
    assert status == 205
    time.sleep(1)  # the socket server logs the close

    for server in (web, ws):
        server.stop()
    logs = {path.name: path.read_text() for path in tmp_path.glob("*.log")}
    assert {"web.log", "ws.log", "worker0.log"} <= set(logs)
    for secret in secrets:
        leaks = [name for name, text in logs.items() if secret in text]
        assert not leaks, f"a secret ({len(secret)} characters) is in {leaks}"

    lines = {
        name: [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        for name, text in logs.items()
    }
    for name, parsed in lines.items():
        assert parsed, name
        assert all(
            {"timestamp", "level", "logger", "event", "request_id"} <= set(line) for line in parsed
        )
    access = [line for line in lines["web.log"] if line["logger"] == "vaultpay.access"]
    paid = [line for line in access if line["request_id"] in request_ids]
    assert [(line["view"], line["status"]) for line in paid] == [
        ("wallet:transfer-create", 202)
    ] * 3
    assert not any("?" in line["path"] for line in access)
    batches = [line for line in lines["worker0.log"] if line["event"] == "settlement batch"]
    settled_ids = [request_id for line in batches for request_id in line["request_ids"]]
    assert sorted(settled_ids) == request_ids
    assert sum(line["count"] for line in batches) == 3
    assert all(line["outcomes"] == {"SUCCESS": line["count"]} for line in batches)
    assert all(line["task"] == "workers.tasks.settle_partition" for line in batches)
    sockets = [line for line in lines["ws.log"] if line["logger"] == "vaultpay.sockets"]
    payee_id = str(Transfer.objects.get(uuid=ids[0]).receiver.user_id)
    opened = [line for line in sockets if line["event"] == "socket opened"]
    assert [line["user_id"] for line in opened] == [payee_id, payee_id]
    closed = [
        (line["user_id"], line["code"]) for line in sockets if line["event"] == "socket closed"
    ]
    assert closed == [(payee_id, 1000), (payee_id, 1000)]
