"""Smoke run of `make run`'s stack in its embedded default: SQLite in WAL mode, a private
redis-server, the web server, the WebSocket server, a Celery worker and beat, all started by
scripts/run.sh.

This is the one test that runs the money path on SQLite, because that mode is what a new
user meets first."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from websockets.sync.client import connect

from api.config.env import BASE_DIR

DEMO_PASSWORD = "rupee-tiger-2026"


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

    stop(process, how)
    process.wait(timeout=60)
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
