"""The load harness on a real stack: the Procfile's processes started, their PIDs, a killed
worker and socket server restarted, the driver's history, and access tokens refreshed
before they expire (the refresh token rotates).

The stack gets a database of its own next to the test database (`<name>_harness`, dropped
and recreated) and the Redis database of REDIS_URL (flushed).
"""

import asyncio
import json
import os
import signal
import socket
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from loadtests.data import TokenKeeper, wallets_of
from loadtests.driver import Driver, Request, run
from loadtests.history import History, read
from loadtests.provision import provision_funded
from loadtests.scenarios import accepted_check
from loadtests.stack import Stack


def alive(pid: int) -> bool:
    """Running, and not a zombie: an orphan killed after its parent is reaped by PID 1, which
    in a container may never do it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    url = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vaultpay"))
    database_url = urlunsplit(url._replace(path=f"{url.path}_harness"))
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    with Stack(
        database_url=database_url,
        redis_url=redis_url,
        run_dir=tmp_path_factory.mktemp("stack"),
        web_processes=2,
        workers=2,
        worker_concurrency=2,
    ) as stack:
        stack.reset()
        stack.start()
        yield stack
    assert not any(c.alive() for c in stack.components.values())


def test_pids_of_every_process_and_restart_after_a_kill(stack):
    pids = stack.pids()
    assert len(pids.web_workers) == 2 and alive(pids.web_master) and alive(pids.ws)
    assert set(pids.workers) == {"worker-1", "worker-2"} and alive(pids.beat)
    for worker in pids.workers.values():
        assert alive(worker.master) and len(worker.children) == 2

    killed = pids.workers["worker-1"]
    os.kill(killed.master, signal.SIGKILL)  # as a fault run does: the pool is orphaned
    stack.component("worker-1").restart()
    os.kill(pids.ws, signal.SIGKILL)
    stack.component("ws").restart()

    after = stack.pids()
    assert not any(alive(pid) for pid in killed.children)  # the old pool was killed too
    assert after.workers["worker-1"].master not in (0, killed.master)
    assert len(after.workers["worker-1"].children) == 2
    assert after.workers["worker-2"] == pids.workers["worker-2"]
    assert after.ws not in (0, pids.ws)


def test_tokens_are_refreshed_and_every_attempt_is_recorded(stack, tmp_path):
    document = provision_funded(stack, prefix="tk", users=2, balance="10.00")
    sender, receiver = wallets_of(document)
    first_access, first_refresh = sender.access, sender.refresh
    history_path = tmp_path / "history.jsonl"

    async def go():
        async with Driver(stack.base_url, history=History(history_path)) as driver:
            keeper = TokenKeeper(
                driver, [sender], issued_at=0, lifetime=document["access_lifetime_seconds"]
            )
            task = asyncio.create_task(keeper.keep())  # issued long ago: due at once

            async def refreshed() -> None:
                while not keeper.refreshed:
                    await asyncio.sleep(0.05)

            try:
                await asyncio.wait_for(refreshed(), 30)
            finally:
                task.cancel()
            payment = Request(
                "transfer", "POST", "/api/wallet/transfer/", sender=sender, key="tk-payment-1",
                body={"receiver_email": receiver.email, "amount": "1.00"},
                check=accepted_check(receiver, "1.00"),
            )  # fmt: skip
            tally = await driver.closed_loop([payment], clients=1)
            reused = await driver.fetch(
                Request("token refresh", "POST", "/api/users/token/refresh/",
                        body={"refresh": first_refresh}, secret_body=True)
            )  # fmt: skip
            driver.history.close()
            return tally, reused

    tally, reused = run(go())

    assert sender.access != first_access and sender.refresh != first_refresh
    assert tally.ok == 1, tally.error_text()  # the refreshed access token works
    assert reused.status == 401  # the refresh rotated: the old one is dead
    lines = list(read(history_path))
    sends = [line for line in lines if line["t"] == "send"]
    answers = {line["op"]: line for line in lines if line["t"] == "answer"}
    payment = next(line for line in sends if line["key"] == "tk-payment-1")
    assert payment["sender"] == sender.email
    assert payment["body"] == {"receiver_email": receiver.email, "amount": "1.00"}
    answer = answers[payment["op"]]
    assert (answer["status"], answer["transfer_status"]) == (202, "PENDING")
    assert all(line["body"] == {} for line in sends if line["name"] == "token refresh")
    text = history_path.read_text()
    assert first_refresh not in text and sender.refresh not in text
    assert sender.access not in text and json.dumps(first_access) not in text


def test_a_killed_web_worker_is_replaced_and_sigterm_stops_web_within_10s(stack):
    """The web server (the Procfile's `web`, granian) replaces a worker killed by SIGKILL, as
    a fault run's web-worker-kill expects, and stops within 10 s of a SIGTERM while a client
    keeps an idle keep-alive connection open."""
    web = stack.component("web")
    before = web.children()
    killed = before[0]
    os.kill(killed, signal.SIGKILL)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        workers = [pid for pid in web.children() if alive(pid)]
        if len(workers) == len(before) and killed not in workers and _healthy(stack):
            break
        time.sleep(0.1)
    assert killed not in workers and len(workers) == len(before), workers
    assert all(_healthy(stack) for _ in range(10))  # every worker serves

    with socket.create_connection(("127.0.0.1", stack.port), timeout=5) as idle:
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert idle.recv(12).endswith(b"200")  # the connection is kept open
        started = time.monotonic()
        web.popen.send_signal(signal.SIGTERM)
        web.popen.wait(timeout=15)
        stopped = time.monotonic() - started
    assert stopped < 10, stopped
    assert not any(alive(pid) for pid in workers)
    web.start()  # the module's stack serves the next tests


def _healthy(stack) -> bool:
    try:
        with urllib.request.urlopen(f"{stack.base_url}/healthz", timeout=5) as answer:  # noqa: S310
            return answer.status == 200
    except OSError:
        return False
