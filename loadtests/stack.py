"""The stack a benchmark measures, run by the benchmark itself on 127.0.0.1: a throwaway
PostgreSQL database, a Redis database number of its own, the web server and the Celery
processes. Every process starts in a session of its own and is stopped by its process group,
on success, error or Ctrl-C alike.

The load itself goes over HTTP only. The harness reads the database directly for one thing,
as an operator would: how many transfers are still PENDING, to time drains without adding
HTTP load of its own.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import redis

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PG_ADMIN_URL = f"postgres://postgres@{HOST}:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


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


@dataclass(frozen=True)
class ServerConfig:
    """How the web tier runs: `uvicorn` (ASGI, as in the Procfile) or `gunicorn` (WSGI, sync
    workers); `processes` is uvicorn's --workers or gunicorn's -w."""

    kind: str
    processes: int

    def command(self, port: int) -> list[str]:
        bind = f"{HOST}:{port}"
        if self.kind == "uvicorn":
            return [
                sys.executable, "-m", "uvicorn", "api.config.asgi:application",
                "--host", HOST, "--port", str(port), "--workers", str(self.processes),
                "--no-access-log", "--lifespan", "off",
            ]  # fmt: skip
        return [
            sys.executable, "-m", "gunicorn", "api.config.wsgi", "--bind", bind,
            "--workers", str(self.processes), "--worker-class", "sync",
            # A sync worker serves one connection at a time; the listen backlog holds the rest.
            "--backlog", "2048", "--log-level", "warning",
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        # Under ASGI each request's sync code runs on a thread of its own; persistent
        # connections would be one per thread (see CONN_MAX_AGE in base settings).
        return {"CONN_MAX_AGE": "0"} if self.kind == "uvicorn" else {}

    def __str__(self) -> str:
        if self.kind == "uvicorn":
            return f"uvicorn (ASGI) --workers {self.processes}, CONN_MAX_AGE=0"
        return f"gunicorn sync -w {self.processes}"


class Process:
    """A child in its own session, output to a log file; `stop()` ends its whole group."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
                command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
            )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait_for_log(self, marker: bytes, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.log.read_bytes():
            if not self.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start; see {self.log}")
            time.sleep(0.05)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM to the leader only: Celery, gunicorn and uvicorn then shut their children
        down warmly (a Celery child signalled directly would lose its task). Whatever is left
        of the group after `timeout` is killed."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()


class Stack:
    def __init__(
        self,
        *,
        database: str,
        redis_db: int,
        run_dir: Path,
        settings_env: dict[str, str],
        port: int = 0,
        ws_port: int = 0,
    ) -> None:
        self.database = database
        self.database_url = f"postgres://postgres@{HOST}:5432/{database}"
        self.redis_url = f"redis://{HOST}:6379/{redis_db}"
        self.run_dir = run_dir
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "api.config.settings.local",
            "VAULTPAY_RUN_DIR": str(run_dir),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "LOG_LEVEL": "WARNING",
            **settings_env,
        }
        self.web: list[Process] = []
        self.workers: list[Process] = []
        self.port = port or free_port()
        # The WebSocket server's port: the web tier names it in each ticket's url.
        self.ws_port = ws_port or int(settings_env.get("WS_PORT", 0)) or free_port()
        self.env["WS_PORT"] = str(self.ws_port)
        self._observer = None

    def sessions(self) -> set[int]:
        """The session ids of this process and of every process the stack runs."""
        return {os.getsid(0)} | {p.popen.pid for p in self.web + self.workers}

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    # Database and Redis ---------------------------------------------------------------------

    def reset(self) -> None:
        """Drops and recreates the database, flushes the Redis database, migrates."""
        try:
            admin = psycopg2.connect(PG_ADMIN_URL, connect_timeout=5)
            redis.Redis.from_url(self.redis_url, socket_connect_timeout=5).ping()
        except (psycopg2.OperationalError, redis.ConnectionError) as exc:
            raise RuntimeError(
                "The benchmark needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and "
                f"Redis on 127.0.0.1:6379 (`make test` starts both): {exc}"
            ) from exc
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{self.database}"')
        admin.close()
        redis.Redis.from_url(self.redis_url).flushdb()
        self.manage("migrate", "--noinput", "-v0")

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return manage(*args, env=self.env, check=check)

    def provision(self, *, prefix: str, users: int, balance: str) -> dict:
        out = self.run_dir / f"users-{prefix}.json"
        self.manage(
            "loadtest_provision",
            f"--users={users}",
            f"--prefix={prefix}",
            f"--balance={balance}",
            f"--out={out}",
        )
        return json.loads(out.read_text())

    def observer(self):
        if self._observer is None:
            self._observer = psycopg2.connect(self.database_url)
            self._observer.autocommit = True
        return self._observer

    def pending_count(self) -> int:
        with self.observer().cursor() as cursor:
            cursor.execute("SELECT count(*) FROM transfers_transfer WHERE status = 'PENDING'")
            return cursor.fetchone()[0]

    def outcomes(self, *, key_prefix: str) -> dict[str, int]:
        """Status counts of the transfers whose idempotency keys start with `key_prefix`."""
        with self.observer().cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(failure_code, status), count(*) FROM transfers_transfer "
                "WHERE idempotency_key LIKE %s GROUP BY 1",
                [key_prefix + "%"],
            )
            return dict(cursor.fetchall())

    def balance(self, *, email: str) -> str:
        """A wallet's balance as the API writes it (`"125.50"`)."""
        with self.observer().cursor() as cursor:
            cursor.execute(
                "SELECT a.balance FROM accounts_account a JOIN users_user u ON u.id = a.user_id "
                "WHERE u.email = %s",
                [email],
            )
            paise = cursor.fetchone()[0]
        return f"{paise // 100}.{paise % 100:02d}"

    def timeline(self, *, key_prefix: str) -> dict:
        """Of the transfers whose keys start with `key_prefix`: how many, the first accept,
        the last accept, the last settlement, and p50/p95/p99 of accept -> settled (database
        clock, seconds)."""
        with self.observer().cursor() as cursor:
            cursor.execute(
                "SELECT count(*), extract(epoch FROM min(created_at)), "
                "extract(epoch FROM max(created_at)), extract(epoch FROM max(settled_at)), "
                "percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP "
                "(ORDER BY extract(epoch FROM settled_at - created_at)) "
                "FROM transfers_transfer WHERE idempotency_key LIKE %s",
                [key_prefix + "%"],
            )
            count, first, last, settled, waits = cursor.fetchone()
        return {
            "count": count,
            "first": first,
            "last": last,
            "settled": settled,
            "settle_wait": waits or [],  # accept -> settled, seconds: p50, p95, p99
        }

    def wait_drained(self, *, timeout: float, poll: float = 0.05) -> float:
        """Waits until no transfer is PENDING; returns the monotonic time it saw that."""
        deadline = time.monotonic() + timeout
        while self.pending_count():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.pending_count()} transfers still PENDING")
            time.sleep(poll)
        return time.monotonic()

    # Processes ------------------------------------------------------------------------------

    def web_start(self, config: ServerConfig) -> None:
        log = self.run_dir / f"web-{config.kind}.log"
        env = {**self.env, **config.env()}
        self.web.append(Process("web", config.command(self.port), env, log))
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as s:
                    s.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                    if s.recv(12).endswith(b"200"):
                        return
            except OSError:
                pass
            if not self.web[-1].alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the web server did not start; see {log}")
            time.sleep(0.1)

    def ws_start(self) -> bool:
        """Starts the Procfile's `ws` process (the ASGI server of the WebSocket endpoint) on
        `ws_port`; False when the Procfile has none."""
        line = next(
            (
                entry.split(":", 1)[1].strip()
                for entry in (ROOT / "Procfile").read_text().splitlines()
                if entry.startswith("ws:")
            ),
            None,
        )
        if line is None:
            return False
        log = self.run_dir / "ws.log"
        env = {
            **self.env,
            "PORT": str(self.port),
            "HOST": HOST,
            "CONN_MAX_AGE": "0",  # as ServerConfig("uvicorn") says
            # The Procfile names programs; ours are beside this interpreter.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        self.web.append(Process("ws", ["bash", "-c", f"exec {line}"], env, log))
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.ws_port), 1):
                return True
            if not self.web[-1].alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the WebSocket server did not start; see {log}")
            time.sleep(0.1)

    def web_stop(self) -> None:
        while self.web:
            self.web.pop().stop()

    def workers_start(self, *, concurrency: int, beat: bool = True) -> float:
        """Starts one Celery worker (prefork, `concurrency` children) and, with `beat`, the
        beat that runs the settlement sweep; returns the monotonic time the worker was ready."""
        log = self.run_dir / "worker.log"
        offset = log.stat().st_size if log.exists() else 0
        celery = [sys.executable, "-m", "celery", "-A", "api.config.celery"]
        worker_args = ["worker", "--concurrency", str(concurrency), "--loglevel", "INFO"]
        # No cluster chatter: one worker, nothing to synchronise with.
        worker_args += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
        worker = Process("worker", [*celery, *worker_args], self.env, log)
        self.workers.append(worker)
        if beat:
            schedule = str(self.run_dir / "celerybeat-schedule")
            beat_args = ["beat", "--loglevel", "WARNING", "--schedule", schedule]
            self.workers.append(
                Process("beat", [*celery, *beat_args], self.env, self.run_dir / "beat.log")
            )
        deadline = time.monotonic() + 60
        while b" ready." not in log.read_bytes()[offset:]:
            if not worker.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start; see {log}")
            time.sleep(0.02)
        return time.monotonic()

    def workers_stop(self) -> None:
        while self.workers:
            self.workers.pop().stop(timeout=60)

    def close(self) -> None:
        """Stops every process this stack started; safe to call more than once."""
        self.web_stop()
        self.workers_stop()
        if self._observer is not None:
            self._observer.close()
            self._observer = None
