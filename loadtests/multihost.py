"""`make multihost`: VaultPay's processes on four hosts, under load, from a fifth.

Hosts are network namespaces of this machine on a private subnet (loadtests/netns.py), each
with its own address and a loopback that is down:

- `data`: a PostgreSQL 15 cluster and a redis-server of the run's own, listening on its
  address only (loadtests/servers.py);
- `app`: the Procfile's `web` and `ws` (and `beat`), listening on its address;
- `worker1`, `worker2`: one Celery worker each (`--worker-concurrency`, default 1).

This namespace is the client: the harness's open loop of uniform payments and its socket
users (loadtests/steady.py) go to the app host's address. The run

1. builds the hosts and aborts unless `ip route get` sends every host's address through the
   bridge here and every other host's through a host's own eth0;
2. starts the servers and the stack, and checks that each process (Celery's pool children
   included) is in its host's namespace (/proc/<pid>/ns/net);
3. provisions users, then runs the load for `--duration` seconds (default 120);
4. attributes every settlement to a host: the settle task returns how many transfers it
   finished, and each worker logs `Task ...settle_partition[...] succeeded in ...: N`;
   the sum over both hosts must equal the transfers the load stored, and each host must
   have settled at least `--min-share` (30 %) of them;
5. checks the origin check with the app host's address (the site's own origin allowed,
   another refused), the sockets (no gap, no duplicate), and runs `ledger_audit`;
6. writes `loadtests/results/multihost.md`.

Everything it created (processes, by their own PIDs; namespaces, veth pairs, the bridge) is
removed on success, error, Ctrl-C, SIGTERM and the time limit. Needs root (ip netns, and
initdb/pg_ctl as the `postgres` user).

Run: .venv/bin/python -m loadtests.multihost --help
"""

import argparse
import asyncio
import base64
import ipaddress
import re
import secrets
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from loadtests.cpu import CpuMeter
from loadtests.driver import Driver, Request, Retries, run
from loadtests.netns import Network, netns_inode, netns_of
from loadtests.report import Figure, Report, audit, machine
from loadtests.servers import PrivateServers
from loadtests.stack import ROOT, UNTHROTTLED, Stack, time_limit
from loadtests.steady import SteadyLoad

DATABASE = "vaultpay_multi"
PORTS = {"postgres": 9710, "redis": 9711, "web": 9720, "ws": 9721}
WORKER_HOSTS = ("worker1", "worker2")
HOSTS = ("data", "app", *WORKER_HOSTS)
SETTLED = re.compile(
    rb"Task workers\.tasks\.settle_partition\[[^\]]+\] succeeded in [0-9.]+s: (\d+)"
)
SETTINGS = {
    **UNTHROTTLED,
    # INFO: each worker logs every task it finished with its result (transfers settled).
    "LOG_LEVEL": "INFO",
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--subnet", default="10.97.0.0/24", help="private subnet of the hosts")
    add("--prefix", default="vpm", help="names of the namespaces and links (<prefix>-...)")
    add("--rate", type=float, default=60, help="offered transfers/s, open loop (default 60)")
    add("--duration", type=int, default=120, help="seconds of load (default 120)")
    add("--users", type=int, default=400, help="wallet users (default 400)")
    add("--sockets", type=int, default=10, help="socket users (default 10)")
    add("--web-workers", type=int, default=2, help="web server processes (default 2)")
    add("--worker-concurrency", type=int, default=1, help="Celery processes per worker host")
    add("--min-share", type=float, default=0.30, help="each worker host's least share")
    add("--results", type=Path, default=ROOT / "loadtests/results/multihost.md")
    add("--time-limit", type=int, help="hard bound of the whole run (default duration + 600)")
    options = parser.parse_args(argv)
    options.time_limit = options.time_limit or options.duration + 600
    options.argv = " ".join(sys.argv[1:] if argv is None else argv)
    return options


def local_secrets() -> dict[str, str]:
    """Secrets every host gets in its environment, as a deployment would hand them out (the
    run folder's generated file is this machine's, not a host's)."""

    def key() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AADHAAR_KEYS": f"k1:{key()}",
        "AADHAAR_INDEX_KEY": key(),
    }


@dataclass(frozen=True)
class Settled:
    transfers: int
    tasks: int


def settled_in(log: Path, offset: int) -> Settled:
    """The transfers a worker's settle tasks finished, from `offset` of its log on."""
    counts = [int(n) for n in SETTLED.findall(log.read_bytes()[offset:])]
    return Settled(sum(counts), len(counts))


def tcp_peers(pid: int) -> Counter:
    """Established TCP connections of `pid`'s network namespace by remote address:port, or by
    remote address alone for connections from clients (to a port of this host)
    (/proc/<pid>/net/tcp is the table of the namespace the process is in)."""
    peers: Counter = Counter()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] != "01":  # ESTABLISHED
            continue
        address, port = fields[2].split(":")
        ip = ipaddress.IPv4Address(bytes.fromhex(address)[::-1])
        local_port = int(fields[1].split(":")[1], 16)
        if local_port in (PORTS["web"], PORTS["ws"]):
            peers[f"{ip} (clients)"] += 1
        else:
            peers[f"{ip}:{int(port, 16)}"] += 1
    return peers


def in_netns(pid: int, netns: str, wait: float = 5.0) -> bool:
    """Whether `pid` is in `netns`; a process just started (beat is not waited for) may still
    be `ip netns exec` before it entered the namespace, so it is given a few seconds."""
    deadline = time.monotonic() + wait
    while netns_of(pid) != netns_inode(netns):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


class MultiHost:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.run_dir = ROOT / ".run" / "multihost"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.report = Report("Multi-host run (make multihost)")
        self.problems: list[str] = []
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        print(f"==> [{time.monotonic() - self.started:5.1f}s] {text}", flush=True)

    def main(self) -> int:
        options = self.options
        network = Network(
            list(HOSTS), subnet=options.subnet, prefix=options.prefix,
            record=self.run_dir / "network.json",
        )  # fmt: skip
        left = network.remove_leftovers()
        if left:
            self.say(f"Removed what an interrupted run left: {', '.join(left)}")
        with network:
            self.network = network
            routes = network.verify()
            self.say(f"Hosts on {options.subnet}: " + ", ".join(
                f"{h.name} {h.address} (netns {h.netns})" for h in network.hosts.values()
            ))  # fmt: skip
            self.report.phase("routes", "; ".join(routes))
            data, app = network.hosts["data"], network.hosts["app"]
            with PrivateServers(
                self.run_dir, host=data.address, ports=(PORTS["postgres"], PORTS["redis"]),
                netns=data.netns, clients=options.subnet,
            ) as servers:  # fmt: skip
                self.servers = servers
                self.say(
                    f"Data host: PostgreSQL {servers.postgres.url(DATABASE)} (pid "
                    f"{servers.postgres.pid}), Redis {servers.redis.url(0)} (pid "
                    f"{servers.redis.pid})"
                )
                stack = self.stack = self.make_stack(app.address, servers)
                with stack:
                    stack.reset()
                    stack.start()
                    self.say(f"Stack up: {stack.base_url}, sockets on port {stack.ws_port}")
                    self.check_placement()
                    self.load()
                    stack.close()  # the audit sees the ledger at rest
                    self.attribute()
                    if not audit(stack, self.report):
                        self.problems.append("ledger_audit failed")
        self.say("Namespaces, links and processes removed")
        self.write()
        return 1 if self.problems else 0

    def make_stack(self, app_address: str, servers: PrivateServers) -> Stack:
        hosts, options = self.network.hosts, self.options
        processes = len(WORKER_HOSTS) * options.worker_concurrency
        settings = {
            **SETTINGS,
            **local_secrets(),
            # Only the app host's address: nothing assumes 127.0.0.1.
            "ALLOWED_HOSTS": app_address,
            # One partition per worker process across the hosts (README, "How it works").
            "SETTLEMENT_PARTITIONS": str(processes),
        }
        placement = {"web": "app", "ws": "app", "beat": "app"}
        placement |= {f"worker-{n}": h for n, h in enumerate(WORKER_HOSTS, 1)}
        return Stack(
            database_url=servers.postgres.url(DATABASE),
            redis_url=servers.redis.url(0),
            run_dir=self.run_dir,
            settings=settings,
            web_processes=options.web_workers,
            workers=len(WORKER_HOSTS),
            worker_concurrency=options.worker_concurrency,
            host=app_address,
            port=PORTS["web"],
            ws_port=PORTS["ws"],
            netns={name: hosts[host].netns for name, host in placement.items()},
        )

    def check_placement(self) -> None:
        """Every process of the stack, children included, in its host's namespace."""
        placed, wrong = [], []
        servers = {"postgres": self.servers.postgres.pid, "redis": self.servers.redis.pid}
        expected = [(name, pid, self.network.hosts["data"].netns) for name, pid in servers.items()]
        for component in self.stack.components.values():
            pids = [component.pid, *component.children()]
            expected += [(component.name, pid, component.netns) for pid in pids]
        for name, pid, netns in expected:
            (placed if in_netns(pid, netns) else wrong).append(f"{name} {pid} in {netns}")
        self.report.figure(
            Figure(
                "Processes on their hosts (/proc/<pid>/ns/net)",
                "; ".join(placed) + (f"; WRONG: {wrong}" if wrong else ""),
                "every process in its host's namespace",
                not wrong,
            )
        )
        if wrong:
            raise SystemExit(f"processes outside their host's namespace: {wrong}")

    def load(self) -> None:
        options = self.options
        steady = SteadyLoad(
            self.stack, users=options.users, sockets=options.sockets, rate=options.rate,
            duration=options.duration, run_dir=self.run_dir, log=self.say,
        )  # fmt: skip
        self.steady = steady
        meter = CpuMeter(self.stack)

        async def during() -> None:
            # The settlements of the load: each worker's log from here on.
            self.offsets = {w.name: w.log.stat().st_size for w in self.stack.workers()}
            meter.start()
            await asyncio.sleep(options.duration / 2)
            self.peers = {w.netns: tcp_peers(w.children()[0]) for w in self.stack.workers()}
            self.peers[self.stack.component("web").netns] = tcp_peers(
                self.stack.component("web").pid
            )
            self.origins = await self.origin_checks()

        self.outcome = run(steady.run(during=during))
        self.cpu = meter.read()
        self.problems += steady.figures(self.report, self.outcome)
        self.report.figure(Figure("CPU during the load", self.cpu.text()))

    async def origin_checks(self) -> dict[str, str]:
        """A handshake from the site's own origin (the app host's address on the web port) is
        let in; one from another origin is refused (HTTP 403)."""
        found = {}
        wallet = self.steady.population.sockets[0]
        async with Driver(self.stack.base_url, retries=Retries(attempts=3)) as driver:
            for origin in (f"http://{self.stack.host}:{self.stack.port}", "http://evil.example"):
                ticket = await driver.fetch_json(
                    Request("realtime ticket", "POST", "/api/realtime/ticket/", sender=wallet)
                )
                try:
                    async with connect(
                        f"{ticket['url']}?ticket={ticket['ticket']}", origin=origin,
                        open_timeout=10,
                    ) as ws:  # fmt: skip
                        hello = await asyncio.wait_for(ws.recv(), 10)
                        found[origin] = f"accepted, first message {hello}"
                except InvalidStatus as exc:
                    found[origin] = f"refused {exc.response.status_code}"
        found["ticket url"] = ticket["url"]
        return found

    def attribute(self) -> None:
        """Which host settled what (worker logs), against what the load stored."""
        options = self.options
        by_host = {w.netns: settled_in(w.log, self.offsets[w.name]) for w in self.stack.workers()}
        total = sum(s.transfers for s in by_host.values())
        stored = sum(self.outcome.stored.values())
        self.report.figure(
            Figure(
                "Settlements attributed to hosts",
                f"{total:,} transfers in the workers' logs, {stored:,} stored by the load",
                "equal",
                total == stored,
            )
        )
        if total != stored:
            self.problems.append(f"attributed {total} settlements, the load stored {stored}")
        for netns, settled in by_host.items():
            share = settled.transfers / total if total else 0.0
            enough = share >= options.min_share
            self.report.figure(
                Figure(
                    f"Settled on {netns}",
                    f"{settled.transfers:,} transfers ({share:.1%}) in {settled.tasks:,} "
                    f"tasks ({settled.transfers / max(settled.tasks, 1):.1f} per task); "
                    f"connections seen on the host: {dict(self.peers.get(netns, {}))}",
                    f">= {options.min_share:.0%}",
                    enough,
                )
            )
            if not enough:
                self.problems.append(f"{netns} settled {share:.1%} of the transfers")
        web = self.stack.component("web").netns
        self.report.figure(Figure(f"Connections seen on {web}", str(dict(self.peers.get(web, {})))))
        site, evil = (f"http://{self.stack.host}:{self.stack.port}", "http://evil.example")
        passed = self.origins.get(site, "").startswith("accepted") and self.origins.get(
            evil, ""
        ).startswith("refused 403")
        self.report.figure(
            Figure(
                "Origin check on the app host's address",
                "; ".join(f"{k}: {v}" for k, v in self.origins.items()),
                "own origin accepted, another refused 403",
                passed,
            )
        )
        if not passed:
            self.problems.append(f"origin check: {self.origins}")

    def write(self) -> None:
        options, hosts = self.options, self.network.hosts
        self.report.setup = {
            **machine(),
            "Hosts": "; ".join(
                f"`{h.name}` {h.address} (netns `{h.netns}`)" for h in hosts.values()
            )
            + f"; bridge `{self.network.bridge}` {self.network.gateway} here (the client)",
            "Data host": f"PostgreSQL 15 on {hosts['data'].address}:{PORTS['postgres']}, "
            f"redis-server on {hosts['data'].address}:{PORTS['redis']}",
            "Stack": self.stack.describe() + "; web, ws and beat on `app`, one worker on each "
            "of " + ", ".join(f"`{h}`" for h in WORKER_HOSTS),
            "Load": f"uniform at {options.rate:g}/s for {options.duration}s (open loop) from "
            f"this namespace, {options.sockets} socket users, {options.users} users",
            "Command": "make multihost"
            + (f' MULTIHOST_ARGS="{options.argv}"' if options.argv else ""),
            "Result": "FAILED: " + "; ".join(self.problems) if self.problems else "passed",
        }
        self.report.notes.append(
            "Settlements are attributed from each worker's log: the settle task returns the "
            "transfers it finished and Celery logs `Task workers.tasks.settle_partition[...] "
            "succeeded in ...: N`, counted from the moment the load began (provisioning's "
            "deposits, settled before, are not counted)."
        )
        self.report.notes.append(
            "A settler stays on its partition while work arrives and hands it to a new task "
            "after 0.5 s, at the back of the queue, which the next worker process to ask for "
            "work takes: the same one, or the other host's when its drain ended first. With "
            "as many partitions as worker processes, each host is nearly always draining one "
            "partition or the other, so each settles about half the transfers whatever the "
            "senders' split between the partitions."
        )
        self.report.write(options.results)
        print(f"\n{self.report.markdown()}\n==> Report written to {options.results}")


def main(argv=None) -> int:
    options = parse_args(argv)
    multihost = MultiHost(options)
    try:
        with time_limit(options.time_limit):
            status = multihost.main()
    except subprocess.CalledProcessError as exc:
        print(f"a command failed: {' '.join(exc.cmd)}\n{exc.stdout}\n{exc.stderr}")
        raise
    if multihost.problems:
        print("FAILED: " + "; ".join(multihost.problems), file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
