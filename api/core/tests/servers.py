"""Private Redis and PostgreSQL servers for fault tests: started on a free port with their
files in a temporary folder, so a test may stop, crash or freeze them without touching the
servers every other test shares. Only the processes started here are ever signalled."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """`redis-server` without persistence: a restart comes back empty, as after a crash."""

    def __init__(self, *, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.folder),
        ]  # fmt: skip
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - a fixed command on our own port
                command, stdout=log, stderr=log, start_new_session=True
            )
        client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                client.ping()
                return self
            except redis.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a crash; its data is gone."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=TIMEOUT)

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted by the kernel and never answered."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.thaw()
            self.kill()


class PostgresCluster:
    """A PostgreSQL 15 cluster of its own (initdb, pg_ctl), run as the `postgres` user, which
    its tools require; fsync stays on, so an immediate stop is a real crash. Its folder is
    made under the system's temporary folder, where that user can reach it."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="vaultpay-pg-"))
        self.data = self.folder / "pgdata"
        self.port = free_port()

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - PostgreSQL's own tools on our own folder
            ["runuser", "-u", "postgres", "--", *args],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=TIMEOUT * 2,
            check=check,
        )

    def init(self) -> "PostgresCluster":
        shutil.chown(self.folder, "postgres", "postgres")
        os.chmod(self.folder, 0o700)
        self._run(
            str(POSTGRES_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth", "trust", "--no-sync",
        )  # fmt: skip
        return self

    def start(self) -> "PostgresCluster":
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c fsync=on -k {self.folder}"
        self._run(
            str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.folder / "postgres.log"), "-w", "-t", str(TIMEOUT), "start",
        )  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash (recovery from the WAL at the next start); `fast` rolls back
        open transactions and shuts down cleanly."""
        self._run(
            str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop",
            check=False,
        )  # fmt: skip

    def remove(self) -> None:
        """Stops the cluster (immediately) and deletes its files."""
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def create_database(self, name: str) -> None:
        self._run(
            str(POSTGRES_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
            "-U", "postgres", name,
        )  # fmt: skip
