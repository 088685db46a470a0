"""Smoke run of `make run`'s stack in its embedded default: SQLite in WAL mode, a private
redis-server, the web server, the WebSocket server, a Celery worker and beat, all started by
scripts/run.sh. Then Redis is restarted under it, sockets are opened again and payments keep
arriving, and Ctrl-C (or a SIGTERM to run.sh) must stop everything within 10 s, the worker
mid-drain, leaving no process behind.

This is the one test that runs the money path on SQLite, because that mode is what a new
user meets first."""

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from api.config.env import BASE_DIR

DEMO_PASSWORD = "rupee-tiger-2026"
STOP_BOUND_SECONDS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Http:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def call(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict]:
        request = urllib.request.Request(  # noqa: S310 - a local http URL we built
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


@pytest.fixture
def embedded_stack(tmp_path):
    """Starts scripts/run.sh as `make run` would, on a free port and a fresh run folder."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    # WS_PORT from bind(0) too, not PORT + 1: Linux hands bind(0) odd ports and outgoing
    # connections even ones, so PORT + 1 is where this test's own polling connections land
    # while run.sh builds the web app.
    env.update(
        PORT=str(port),
        WS_PORT=str(free_port()),
        VAULTPAY_RUN_DIR=str(tmp_path),
        PATH=os.environ["PATH"],
    )
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - the project's own script
        [str(BASE_DIR / "scripts" / "run.sh")],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    http = Http(port)
    deadline = time.monotonic() + 180
    while True:
        try:
            if http.call("GET", "/healthz")[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("make run did not come up:\n" + (tmp_path / "run.log").read_text())
        time.sleep(0.5)
    yield http, env, process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)


def processes_of_run(run_dir) -> list[str]:
    """The command lines of running processes started by the run using `run_dir` (each has
    VAULTPAY_RUN_DIR=<run_dir> in its environment: run.sh exports it)."""
    marker = f"VAULTPAY_RUN_DIR={run_dir}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def redis_restart(run_dir: Path, env: dict[str, str]) -> None:
    """Kills the run's private Redis (nothing saved) and starts an empty one on its port, as
    run.sh does (so run.sh's exit stops it too)."""
    folder = run_dir / "redis"
    port = (folder / "port").read_text().strip()
    pid = int((folder / "redis.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    while Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text():
        time.sleep(0.05)
    command = [
        "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", port,
        "--save", "", "--appendonly", "no", "--dir", str(folder),
        "--pidfile", str(folder / "redis.pid"), "--logfile", str(folder / "redis.log"),
    ]  # fmt: skip
    subprocess.run(command, env=env, check=True, timeout=30)  # noqa: S603 - as run.sh does


def pending_count(run_dir: Path) -> int:
    with contextlib.closing(sqlite3.connect(run_dir / "vaultpay.sqlite3", timeout=10)) as db:
        return db.execute(
            "SELECT count(*) FROM transfers_transfer WHERE status = 'PENDING'"
        ).fetchone()[0]


class Payments:
    """demo03 ... demo06 pay demo07 1.00 at a time, on threads, until stopped; the stack may
    stop answering meanwhile (that is the point)."""

    def __init__(self, http: Http) -> None:
        self.stopping = threading.Event()
        self.accepted = 0
        senders = [f"demo{n:02d}@vaultpay.test" for n in range(3, 7)]
        self.threads = [threading.Thread(target=self._pay, args=(http, s)) for s in senders]
        for thread in self.threads:
            thread.start()

    def _pay(self, http: Http, email: str) -> None:
        login = http.call("POST", "/api/users/login/", {"email": email, "password": DEMO_PASSWORD})
        auth = {"Authorization": f"Bearer {login[1]['access']}"}
        while not self.stopping.is_set():
            with contextlib.suppress(OSError):
                status, _ = http.call(
                    "POST", "/api/wallet/transfer/",
                    {"receiver_email": "demo07@vaultpay.test", "amount": "1.00"},
                    {**auth, "Idempotency-Key": uuid.uuid4().hex},
                )  # fmt: skip
                self.accepted += status == 202

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)


def stop(process: subprocess.Popen, how: str) -> None:
    if how == "ctrl-c":
        os.killpg(process.pid, signal.SIGINT)  # the terminal signals its whole group
    else:
        process.send_signal(signal.SIGTERM)  # a process manager stops run.sh alone


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_make_run_on_sqlite_settles_payments_and_stops_cleanly(embedded_stack, tmp_path, how):
    http, env, process = embedded_stack
    closing = contextlib.ExitStack()
    status, login = http.call(
        "POST", "/api/users/login/", {"email": "demo01@vaultpay.test", "password": DEMO_PASSWORD}
    )
    assert status == 200, login
    auth = {"Authorization": f"Bearer {login['access']}"}
    status, ticket = http.call("POST", "/api/realtime/ticket/", headers=auth)
    assert status == 200, ticket
    assert ticket["url"] == f"ws://127.0.0.1:{env['WS_PORT']}/ws/notifications/"
    socket = closing.enter_context(
        connect(f"{ticket['url']}?ticket={ticket['ticket']}", open_timeout=30)
    )
    hello = json.loads(socket.recv(timeout=30))
    assert hello["type"] == "hello"

    accepted = []
    for amount in ["1.00", "2.50", "3.75"]:
        status, body = http.call(
            "POST",
            "/api/wallet/transfer/",
            {"receiver_email": "demo02@vaultpay.test", "amount": amount, "note": "smoke"},
            {**auth, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert (status, body["status"]) == (202, "PENDING"), body
        accepted.append(body["id"])

    deadline = time.monotonic() + 60
    statuses: list[str] = []
    while time.monotonic() < deadline:
        statuses = [
            http.call("GET", f"/api/wallet/transfers/{id_}/", headers=auth)[1]["status"]
            for id_ in accepted
        ]
        if "PENDING" not in statuses:
            break
        time.sleep(0.5)
    assert statuses == ["SUCCESS"] * 3

    # The sender's socket was told of each, in order, with seqs following hello's. The demo
    # data's own payments may still be settling, so their events can come in between.
    def ours(messages: list[dict]) -> list[dict]:
        return [
            m["transfer"]
            for m in messages
            if m["type"] == "transfer.updated" and m["transfer"]["id"] in accepted
        ]

    told = []
    while len(ours(told)) < 3:
        told.append(json.loads(socket.recv(timeout=30)))
    closing.close()
    assert [m["seq"] for m in told] == list(range(hello["seq"] + 1, hello["seq"] + 1 + len(told)))
    updates = ours(told)
    assert [(t["id"], t["status"]) for t in updates] == [(id_, "SUCCESS") for id_ in accepted]

    # Redis restarted under the running stack; sockets open again once it is back.
    redis_restart(tmp_path, env)
    sockets = []
    deadline = time.monotonic() + 60
    while len(sockets) < 3:
        status, ticket = http.call("POST", "/api/realtime/ticket/", headers=auth)
        if status == 200:
            sockets.append(connect(f"{ticket['url']}?ticket={ticket['ticket']}", open_timeout=30))
            assert json.loads(sockets[-1].recv(timeout=30))["type"] == "hello"
        else:
            assert (status, time.monotonic() < deadline) == (503, True), ticket
            time.sleep(0.5)

    # Payments keep arriving, so the worker is draining when the stop comes.
    payments = Payments(http)
    try:
        while payments.accepted < 20 or pending_count(tmp_path) == 0:
            assert time.monotonic() < deadline + 60, "no backlog built up"
            time.sleep(0.1)
        stop(process, how)
        asked = time.monotonic()
        process.wait(timeout=60)
        took = time.monotonic() - asked
    finally:
        payments.stop()
    assert took < STOP_BOUND_SECONDS, (tmp_path / "run.log").read_text()[-3000:]
    for open_socket in sockets:  # closed by the server as it stopped ("restart")
        with pytest.raises(ConnectionClosed):
            open_socket.recv(timeout=10)
        assert open_socket.close_code == 1012
    assert not (tmp_path / "redis" / "port").exists()  # the private Redis was shut down
    assert processes_of_run(tmp_path) == []  # web, ws, worker, beat and Redis all stopped

    audit = subprocess.run(
        [sys.executable, "manage.py", "ledger_audit"],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "api.config.settings.local"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert audit.stdout.startswith("ledger OK")
