"""The one way a load run starts the stack it measures: the Procfile's `web`, `ws`, `worker`
and `beat` processes, serving on 127.0.0.1 unless told another address, pointed at the
PostgreSQL database and Redis database it is given.

    stack = Stack(
        database_url="postgres://postgres@127.0.0.1:5432/vaultpay_load_h",
        redis_url="redis://127.0.0.1:6379/7",
        run_dir=Path(".run/my-run"),
        settings={"THROTTLE_TRANSFER": "100000/s"},  # extra environment of every process
        web_processes=4, ws_processes=1, workers=2, worker_concurrency=2,
        web_command=None,       # default: the Procfile's `web` line
        host="127.0.0.1",       # where web and ws listen, and what base_url names
        netns={"worker-2": "vpm-worker2"},  # components run in other network namespaces
    )
    with time_limit(600), stack:  # close() on success, error, Ctrl-C, SIGTERM, time limit
        stack.reset()           # drop + create + migrate the database, flush the Redis db
        stack.start()           # web, ws, every worker, beat; each waited for (bounded)
        stack.base_url          # http://127.0.0.1:<port> (REST); stack.ws_port (sockets)
        stack.pids()            # StackPids: web_master, web_workers, ws, workers, beat
        stack.component("worker-1").kill()      # SIGKILL its whole process group
        stack.component("worker-1").restart()   # what is left is killed, then started again
        stack.ledger            # loadtests.ledger.Ledger on the same database
        stack.manage("ledger_audit", check=False)

Components are named `web`, `ws`, `worker-1` ... `worker-N` and `beat`. Each runs in a
session (and process group) of its own, its output appended to `<run_dir>/<name>.log`;
`stop()` sends SIGTERM to the leader only (granian, uvicorn and Celery then stop their
children warmly), waits a bounded time, then SIGKILLs the whole group. Every wait is bounded.

The database and Redis URLs may name the machine's servers (a dedicated database and Redis
database number) or private servers another program started; `reset()` connects to the
`postgres` database of the same server to drop and create the run's database.

A component named in `netns` runs inside that network namespace (`ip netns exec`, which
execs: the PID is the program's own), as if on another host (loadtests/netns.py); the
harness itself, the database commands and the load stay in this one.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import redis

from loadtests.ledger import Ledger

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = {"worker": 60.0}  # a worker finishes its task; the others stop sooner
DEFAULT_STOP_TIMEOUT = 15.0
# Settings a report names without their values.
SECRETS = frozenset({"SECRET_KEY", "AADHAAR_KEYS", "AADHAAR_INDEX_KEY", "METRICS_TOKEN"})


@contextlib.contextmanager
def time_limit(seconds: int):
    """Within the block, SIGTERM and the end of `seconds` raise SystemExit (as Ctrl-C raises
    KeyboardInterrupt), so every `finally` runs and the stack it guards is stopped."""

    def abort(signum, _frame):
        raise SystemExit(f"stopped by {signal.Signals(signum).name} (time limit {seconds}s)")

    previous = signal.signal(signal.SIGTERM, abort), signal.signal(signal.SIGALRM, abort)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGALRM, previous[1])


# Load runs send many requests a second per user (hot pairs, replays, socket users'
# reconnections, staff deposits in the user scope, anonymous token refreshes): throttles must
# not be what a run measures.
UNTHROTTLED = {
    "THROTTLE_TRANSFER": "100000/s",
    "THROTTLE_USER": "100000/s",
    "THROTTLE_ANON": "100000/s",
    "THROTTLE_LOGIN": "100000/min",
    "THROTTLE_TICKET": "100000/min",
}


def free_port(host: str = HOST) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def local_urls(*, database: str, redis_db: int) -> tuple[str, str]:
    """The database and Redis URLs of a run on the machine's own servers."""
    return f"postgres://postgres@{HOST}:5432/{database}", f"redis://{HOST}:6379/{redis_db}"


def manage(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    """`manage.py ARGS` in `env`, output captured; with `check`, a failure raises
    CalledProcessError (which carries the output)."""
    return subprocess.run(  # noqa: S603 - our interpreter, our arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=check,
    )


def procfile(name: str) -> str | None:
    """The command line of the Procfile's process `name`, or None."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    return None


def children(pid: int) -> list[int]:
    """The PIDs of `pid`'s direct children (from /proc; empty when it is gone)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


@dataclass(frozen=True)
class WorkerPids:
    master: int
    children: list[int]  # the prefork pool's processes


@dataclass(frozen=True)
class StackPids:
    """What a fault run signals. 0 (or empty) for a component that is not running."""

    web_master: int
    web_workers: list[int]
    ws: int
    workers: dict[str, WorkerPids]  # by component name: worker-1, worker-2, ...
    beat: int


class Component:
    """One Procfile process of the stack: start, stop, kill, restart, PIDs."""

    def __init__(
        self, stack: "Stack", name: str, command: str, env: dict[str, str], netns: str | None
    ) -> None:
        self.stack, self.name, self.command, self.env = stack, name, command, env
        self.netns = netns  # the network namespace it runs in (None: this one)
        self.log = stack.run_dir / f"{name}.log"
        self.log.unlink(missing_ok=True)  # a new stack's log; restarts append to it
        self.popen: subprocess.Popen | None = None

    @property
    def kind(self) -> str:
        return self.name.split("-", 1)[0]

    @property
    def pid(self) -> int:
        return self.popen.pid if self.alive() else 0

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def children(self) -> list[int]:
        return children(self.pid) if self.alive() else []

    def spawn(self) -> subprocess.Popen:
        """Starts another process of this component, its output appended to the log; not
        waited for (`start()` waits)."""
        with self.log.open("ab") as out:
            return subprocess.Popen(  # noqa: S603 - the Procfile's command, our env
                [*netns_exec(self.netns), "/bin/bash", "-c", f"exec {self.command}"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )

    def start(self) -> None:
        """Starts the process and waits until it serves (bounded)."""
        offset = self.log.stat().st_size if self.log.exists() else 0
        self.popen = self.spawn()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._ready(offset):
            if not self.alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not start; see {self.log}")
            time.sleep(0.05)

    def _ready(self, offset: int) -> bool:
        if self.kind == "web":
            return _http_ok(self.stack.host, self.stack.port, "/healthz")
        if self.kind == "ws":
            return _http_ok(self.stack.host, self.stack.ws_port, "/healthz")
        if self.kind == "worker":
            return b" ready." in self.log.read_bytes()[offset:]
        return True  # beat: nothing to wait for

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM to the leader, then SIGKILL to the whole group after `timeout`."""
        if self.popen is None:
            return
        timeout = STOP_TIMEOUT.get(self.kind, DEFAULT_STOP_TIMEOUT) if timeout is None else timeout
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.kill()

    def kill(self) -> None:
        """SIGKILL to the whole process group (leader and children) at once."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def restart(self) -> None:
        """Whatever is left of the component is killed; then it starts again (same ports,
        same Celery node name)."""
        self.kill()
        self.start()


class Stack:
    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        run_dir: Path,
        settings: dict[str, str] | None = None,
        web_processes: int = 4,
        ws_processes: int = 1,
        workers: int = 1,
        worker_concurrency: int = 2,
        beat: bool = True,
        port: int = 0,
        ws_port: int = 0,
        web_command: str | None = None,
        host: str = HOST,
        netns: dict[str, str] | None = None,
    ) -> None:
        self.database_url, self.redis_url = database_url, redis_url
        self.database = urlsplit(database_url).path.lstrip("/")
        self.run_dir = run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.netns = netns or {}
        # Ports are free here; a namespace of its own has every port free.
        self.port = port or free_port()
        self.ws_port = ws_port or free_port()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "api.config.settings.local",
            "VAULTPAY_RUN_DIR": str(run_dir),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "LOG_LEVEL": "WARNING",
            "HOST": host,
            "PORT": str(self.port),
            "WS_PORT": str(self.ws_port),
            "WEB_CONCURRENCY": str(web_processes),
            "WS_CONCURRENCY": str(ws_processes),
            "WORKER_CONCURRENCY": str(worker_concurrency),
            # The listen backlog holds connections no worker has taken yet (granian reads
            # GRANIAN_*, gunicorn GUNICORN_CMD_ARGS: the capacity benchmark runs both).
            "GRANIAN_BACKLOG": "2048",
            "GRANIAN_LOG_LEVEL": "warning",
            "GUNICORN_CMD_ARGS": "--backlog 2048 --log-level warning",
            # The Procfile names programs; ours are beside this interpreter.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            **(settings or {}),
        }
        self.settings = settings or {}
        self.components: dict[str, Component] = {}
        # Another command for `web` (the capacity benchmark compares WSGI servers); it reads
        # HOST, PORT and WEB_CONCURRENCY as the Procfile's line does.
        self.web_command = web_command or procfile("web")
        self._add("web", self.web_command)
        if procfile("ws") is not None:
            # The ASGI server runs each sync call on a thread of its own: no kept connections.
            self._add("ws", procfile("ws"), CONN_MAX_AGE="0")
        for n in range(1, workers + 1):
            # A node name each; no cluster chatter between them (nothing to synchronise).
            extra = f" -n worker{n}@%h --without-mingle --without-gossip --without-heartbeat"
            self._add(f"worker-{n}", procfile("worker") + extra)
        if beat:
            self._add("beat", procfile("beat"))
        self.ledger = Ledger(database_url)

    def _add(self, name: str, command: str, **env: str) -> None:
        self.components[name] = Component(
            self, name, command, {**self.env, **env}, self.netns.get(name)
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def describe(self) -> str:
        """What runs, for a report: processes, database, Redis, the settings given."""
        beat = " and beat" if "beat" in self.components else ""
        web = "the Procfile's web" if self.web_command == procfile("web") else "web"
        parts = [
            f"{web} `{self.web_command}` ({self.env['WEB_CONCURRENCY']} processes)",
            *(
                [f"ws ({self.env['WS_CONCURRENCY']} server process(es))"]
                if self.serves_sockets
                else []
            ),
            f"{len(self.workers())} Celery worker(s) --concurrency "
            f"{self.env['WORKER_CONCURRENCY']}{beat}",
        ]
        settings = ", ".join(
            f"{k}={'(set)' if k in SECRETS else v}" for k, v in self.settings.items()
        )
        return (
            f"{', '.join(parts)}; PostgreSQL database `{self.database}` (dropped and recreated), "
            f"{self.redis_url} (flushed)" + (f"; {settings}" if settings else "")
        )

    @property
    def serves_sockets(self) -> bool:
        return "ws" in self.components

    def component(self, name: str) -> Component:
        return self.components[name]

    def workers(self) -> list[Component]:
        return [c for c in self.components.values() if c.kind == "worker"]

    def __enter__(self) -> "Stack":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # Database and Redis ---------------------------------------------------------------------

    def reset(self) -> None:
        """Drops and recreates the database, flushes the Redis database, migrates."""
        admin_url = urlunsplit(urlsplit(self.database_url)._replace(path="/postgres"))
        try:
            admin = psycopg2.connect(admin_url, connect_timeout=5)
            redis.Redis.from_url(self.redis_url, socket_connect_timeout=5).ping()
        except (psycopg2.OperationalError, redis.ConnectionError) as exc:
            raise RuntimeError(f"PostgreSQL or Redis is not reachable: {exc}") from exc
        if not re.fullmatch(r"[a-z0-9_]+", self.database):
            raise ValueError(f"database name {self.database!r}: lower case, digits and _ only")
        self.ledger.close()
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{self.database}"')
        admin.close()
        redis.Redis.from_url(self.redis_url).flushdb()
        self.manage("migrate", "--noinput", "-v0")

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return manage(*args, env=self.env, check=check)

    # Processes ------------------------------------------------------------------------------

    def start(self, *names: str) -> None:
        """Starts the named components (default: all, web first, beat last)."""
        for name in names or self.components:
            self.components[name].start()

    def stop(self, *names: str) -> None:
        """Stops the named components (default: all, in reverse order)."""
        for name in reversed(names or list(self.components)):
            self.components[name].stop()

    def start_workers(self) -> float:
        """Starts every worker; returns the monotonic time the last one was ready."""
        self.start(*(w.name for w in self.workers()))
        return time.monotonic()

    def stop_workers(self) -> None:
        self.stop(*(w.name for w in self.workers()))

    def pids(self) -> StackPids:
        web, ws, beat = (self.components.get(n) for n in ("web", "ws", "beat"))
        return StackPids(
            web_master=web.pid,
            web_workers=web.children(),
            ws=ws.pid if ws else 0,
            workers={w.name: WorkerPids(w.pid, w.children()) for w in self.workers()},
            beat=beat.pid if beat else 0,
        )

    def sessions(self) -> set[int]:
        """The session ids of this process and of every running component (for cpu.py)."""
        return {os.getsid(0)} | {c.pid for c in self.components.values() if c.alive()}

    def close(self) -> None:
        """Stops every component and closes the ledger connection; safe to call again."""
        try:
            self.stop()
        finally:
            for component in self.components.values():
                component.kill()
            self.ledger.close()


def netns_exec(netns: str | None) -> list[str]:
    """The command prefix that runs a program inside network namespace `netns`."""
    return ["ip", "netns", "exec", netns] if netns else []


def _http_ok(host: str, port: int, path: str) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        return s.recv(12).endswith(b"200")
    return False
