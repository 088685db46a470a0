"""Real Celery worker and beat processes for pipeline tests, against the test database and
Redis."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

from api.config.env import BASE_DIR


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class CeleryProcess:
    """A `celery` command in a process group of its own, against the test database and the
    test's Redis; `kill()` is SIGKILL to all of it."""

    name = "celery"
    ready = b""  # what the log says once the process serves

    def __init__(self, *, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen | None = None

    def _arguments(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 60) -> "CeleryProcess":
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "api.config.settings.test",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
        }
        command = [sys.executable, "-m", "celery", "-A", "api.config.celery", *self._arguments()]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command, cwd=BASE_DIR, env=env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while self.ready not in self.log.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Celery {self.name} did not start:\n{self.log.read_text()}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        """Warm shutdown: a worker finishes the task in hand."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)

    def kill(self) -> None:
        """SIGKILL to the main process and its pool children at once, as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=60)


class WorkerProcess(CeleryProcess):
    name = "worker"
    ready = b"ready."

    def __init__(self, *, concurrency: int, log: Path) -> None:
        super().__init__(log=log)
        self.concurrency = concurrency

    def _arguments(self) -> list[str]:
        return [
            "worker", "--concurrency", str(self.concurrency), "--loglevel", "INFO",
            "--without-mingle", "--without-gossip", "--without-heartbeat",
            "-n", f"test-{uuid.uuid4().hex[:8]}@%h",
        ]  # fmt: skip


class BeatProcess(CeleryProcess):
    """Celery beat, as the Procfile runs it: the settlement sweep every few seconds."""

    name = "beat"
    ready = b"beat: Starting..."

    def _arguments(self) -> list[str]:
        schedule = self.log.with_name(f"{self.log.stem}-schedule")
        return ["beat", "--loglevel", "INFO", "--schedule", str(schedule)]
