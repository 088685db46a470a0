"""Private PostgreSQL 15 and Redis servers for a fault run, in the run folder.

A fault run stops, crashes and freezes its database and broker, so it must never use the
machine's own cluster or Redis: each run initialises a PostgreSQL cluster of its own (as the
`postgres` user, which initdb and pg_ctl require; fsync and synchronous_commit on, so a crash
loses nothing committed) and starts a redis-server of its own (no RDB, no AOF: a stop loses
the broker's queue, as a crash of an unpersisted Redis would). Both listen on free ports of
127.0.0.1, or on the address and port they are given, inside the network namespace they are
given (`make multihost`'s data host). Only the PIDs these servers started are ever signalled;
`close()` tears both down and is safe to call more than once (the run calls it on success,
error and Ctrl-C alike).
"""

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from loadtests.stack import HOST, free_port, netns_exec

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "postgres"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class PostgresServer:
    """A PostgreSQL 15 cluster in `<run_dir>/pg`, owned by the `postgres` user, listening on
    `host` only; trust auth for 127.0.0.1 and the network `clients` (a private subnet: a
    throwaway cluster)."""

    def __init__(
        self,
        run_dir: Path,
        *,
        host: str = HOST,
        port: int = 0,
        netns: str | None = None,
        clients: str | None = None,
    ) -> None:
        self.dir = run_dir.resolve() / "pg"
        self.data = self.dir / "data"
        self.socket_dir = self.dir / "socket"
        self.log = self.dir / "postgres.log"
        self.host, self.port, self.netns, self.clients = host, port, netns, clients
        self.pid = 0  # the postmaster this server started (0 when not running)

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str) -> str:
        return f"postgres://postgres@{self.host}:{self.port}/{database}"

    def _as_postgres(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        # initdb and pg_ctl refuse to run as root.
        prefix = ["runuser", "-u", PG_USER, "--"] if os.geteuid() == 0 else []
        return subprocess.run(  # noqa: S603 - fixed programs, our arguments
            [*netns_exec(self.netns), *prefix, *command],
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def init(self) -> None:
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.socket_dir.mkdir(parents=True)
        owner = pwd.getpwnam(PG_USER)
        for path in (self.dir, self.socket_dir):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions",
        )  # fmt: skip
        if self.clients:
            with (self.data / "pg_hba.conf").open("a") as hba:
                hba.write(f"host all all {self.clients} trust\n")
        self.port = self.port or free_port()

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses={self.host} -k {self.socket_dir} "
            "-c fsync=on -c synchronous_commit=on -c full_page_writes=on "
            "-c max_connections=200 -c shared_buffers=128MB"
        )
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
            "-o", options, "-w", "-t", "120", "start",
        )  # fmt: skip
        self.pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])

    def stop(self, mode: str) -> None:
        """`immediate` is a crash (no checkpoint, recovery on the next start); `fast` rolls
        back open transactions and shuts down cleanly."""
        if not self.pid:
            return
        result = self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop",
            check=False,
        )  # fmt: skip
        if not _wait_gone(self.pid, 10):
            os.kill(self.pid, signal.SIGKILL)
            _wait_gone(self.pid, 10)
        if result.returncode and _alive(self.pid):
            raise RuntimeError(f"pg_ctl stop -m {mode} failed: {result.stderr}")
        self.pid = 0

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        if self.pid and _alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)
        self.pid = 0


class RedisServer:
    """A redis-server in `<run_dir>/redis`, nothing persisted, listening on `host` only."""

    def __init__(
        self, run_dir: Path, *, host: str = HOST, port: int = 0, netns: str | None = None
    ) -> None:
        self.dir = run_dir.resolve() / "redis"
        self.log = self.dir / "redis.log"
        self.host, self.port, self.netns = host, port, netns
        self.popen: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid if self.popen is not None and self.popen.poll() is None else 0

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def start(self) -> None:
        """Starts (or restarts, empty) on the same port."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        # Protected mode admits loopback clients only (no password here): off on a private
        # subnet's address, where the other hosts are the clients.
        protected = "yes" if self.host == HOST else "no"
        command = [
            *netns_exec(self.netns),
            "redis-server", "--port", str(self.port), "--bind", self.host, "--save", "",
            "--appendonly", "no", "--dir", str(self.dir), "--logfile", str(self.log),
            "--daemonize", "no", "--protected-mode", protected, "--maxclients", "10000",
        ]  # fmt: skip
        self.popen = subprocess.Popen(  # noqa: S603 - fixed program, our arguments
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 20
        while True:
            address = (self.host, self.port)
            with contextlib.suppress(OSError), socket.create_connection(address, 1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start; see {self.log}")
            time.sleep(0.05)

    def kill(self) -> None:
        """Gone at once without saving: whatever it held (the broker's queue) is lost."""
        if self.popen is not None and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGCONT)  # in case it is frozen
            self.popen.kill()
            self.popen.wait(timeout=10)

    def freeze(self) -> None:
        if self.pid:
            os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.pid:
            os.kill(self.pid, signal.SIGCONT)

    def close(self) -> None:
        self.kill()
        self.popen = None


class PrivateServers:
    """Both servers of one run; a context manager that tears them down whatever happens.
    `host`, `ports` (PostgreSQL, Redis) and `netns` place them elsewhere than on free ports
    of 127.0.0.1 here; `clients` is the network PostgreSQL lets in besides 127.0.0.1."""

    def __init__(
        self,
        run_dir: Path,
        *,
        host: str = HOST,
        ports: tuple[int, int] = (0, 0),
        netns: str | None = None,
        clients: str | None = None,
    ) -> None:
        self.postgres = PostgresServer(
            run_dir, host=host, port=ports[0], netns=netns, clients=clients
        )
        self.redis = RedisServer(run_dir, host=host, port=ports[1], netns=netns)

    def __enter__(self) -> "PrivateServers":
        try:
            self.postgres.init()
            self.postgres.start()
            self.redis.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self.redis.close()
        self.postgres.close()

    def pids(self) -> set[int]:
        return {pid for pid in (self.postgres.pid, self.redis.pid) if pid}
