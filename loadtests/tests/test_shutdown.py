"""Every process of the Procfile stops within 10 s of its SIGTERM and leaves no process
behind, with sockets open, a worker draining a backlog, and after Redis was restarted under
all of them. The processes are started as the Procfile says (loadtests/stack.py), so this
holds for whichever web server the Procfile names; `make run`'s Ctrl-C is tested in
api/config/tests/test_embedded_run.py."""

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from loadtests.data import wallets_of
from loadtests.driver import Driver, Request, Retries, run
from loadtests.provision import provision_funded
from loadtests.servers import RedisServer
from loadtests.sockets import Socket, SocketTally, open_all
from loadtests.stack import Stack
from loadtests.steady import synced

BOUND_SECONDS = 10.0
SETTINGS = {
    "THROTTLE_TRANSFER": "100000/s",
    "THROTTLE_USER": "100000/s",
    "THROTTLE_TICKET": "100000/min",
    "LOG_LEVEL": "INFO",  # the worker logs each task it finishes
}


def session_members(session: int) -> list[int]:
    """Live processes of a session: a component's leader and anything it started that is left
    (a stack component runs in a session of its own, and an orphan keeps its session)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.close()


@pytest.fixture
def stack(tmp_path, redis_server):
    url = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vaultpay"))
    with Stack(
        database_url=urlunsplit(url._replace(path=f"{url.path}_shutdown")),
        redis_url=redis_server.url(0),
        run_dir=tmp_path / "stack",
        settings=SETTINGS,
        web_processes=2,
        workers=1,
        worker_concurrency=2,
    ) as stack:
        stack.reset()
        stack.start()
        yield stack


def payments(wallets, count: int) -> list[Request]:
    def payment(n: int) -> Request:
        receiver = wallets[(n + 1) % len(wallets)]
        return Request(
            "transfer", "POST", "/api/wallet/transfer/", sender=wallets[n % len(wallets)],
            key=f"shutdown-{n:06d}", body={"receiver_email": receiver.email, "amount": "1.00"},
        )  # fmt: skip

    return [payment(n) for n in range(count)]


def test_every_process_stops_within_10_s_of_sigterm_and_leaves_nothing(stack, redis_server):
    wallets = wallets_of(provision_funded(stack, prefix="sd", users=12, balance="1000.00"))
    sockets_tally = SocketTally()
    worker_log = stack.component("worker-1").log

    async def scene() -> tuple[int, dict[str, float]]:
        async with Driver(stack.base_url, retries=Retries(attempts=3)) as driver:
            sockets = [Socket(driver, w, tally=sockets_tally) for w in wallets[:4]]
            await open_all(sockets)
            # Redis restarted (empty) under open sockets, the worker, beat and the web app.
            redis_server.kill()
            await asyncio.sleep(1)
            redis_server.start()
            deadline = time.monotonic() + 30
            ticket = Request("ticket", "POST", "/api/realtime/ticket/", sender=wallets[0])
            while (await driver.fetch(ticket)).status != 200:  # Redis is back for the web app
                assert time.monotonic() < deadline, "tickets not served after the restart"
                await asyncio.sleep(0.2)
            for socket in sockets:  # open, answering (reconnected, if it had been closed)
                assert await synced(socket), socket.wallet.email
            # A backlog that is still arriving: the worker is draining when it is signalled.
            burst = asyncio.create_task(driver.closed_loop(payments(wallets[4:], 2000), clients=16))
            offset = worker_log.stat().st_size
            while b"settle_partition" not in worker_log.read_bytes()[offset:]:
                assert time.monotonic() < deadline + 30, "the worker never started settling"
                await asyncio.sleep(0.1)
            pending = stack.ledger.pending_count()
            exits = await asyncio.to_thread(sigterm_all, stack)
            burst.cancel()
            await asyncio.gather(burst, return_exceptions=True)
            await asyncio.gather(*(s.close() for s in sockets))
            return pending, exits

    sessions = {name: c.pid for name, c in stack.components.items()}
    pending, exits = run(scene())

    assert pending > 0  # signalled with a backlog to drain
    assert set(exits) == {"web", "ws", "worker-1", "beat"}
    slow = {name: seconds for name, seconds in exits.items() if seconds > BOUND_SECONDS}
    assert not slow, slow
    left = {name: session_members(pid) for name, pid in sessions.items()}
    assert all(not pids for pids in left.values()), left  # no child outlived its parent
    assert 1012 in sockets_tally.closes  # the sockets were closed "restart", not dropped
    log = worker_log.read_text()
    after_signal = log[log.index("Warm shutdown") :]
    assert "settle_partition" in after_signal  # the drain in progress finished first


def sigterm_all(stack: Stack) -> dict[str, float]:
    """SIGTERM to every component's leader at once; seconds until each exited."""
    signalled = time.monotonic()
    for component in stack.components.values():
        component.popen.send_signal(signal.SIGTERM)
    exits = {}
    for name, component in stack.components.items():
        with contextlib.suppress(subprocess.TimeoutExpired):  # over the bound: asserted
            component.popen.wait(timeout=60)
        exits[name] = time.monotonic() - signalled
    return exits
