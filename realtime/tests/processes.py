"""Real processes for end-to-end tests: the socket server (the Procfile's `ws` command, which
also serves HTTP) and the WSGI server (the Procfile's `web` command: granian)
against the test database and Redis, and a WebSocket client (`websockets`) that records
everything it receives on a thread of its own. Private Redis servers come from
api.core.tests.servers."""

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from websockets.sync.client import connect

from api.config.env import BASE_DIR
from api.transfers.tests.worker import _database_url

TIMEOUT = 60  # generous: the machine is shared


def port_free_in(first: int, last: int) -> int:
    ports = list(range(first, last + 1))
    random.shuffle(ports)
    for port in ports:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port in {first}-{last}")


def procfile_command(name: str) -> str:
    """The command of the Procfile's process `name`, as a process manager runs it."""
    for line in (BASE_DIR / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise LookupError(name)


def group_gone(pgid: int) -> bool:
    """True when no process of the process group `pgid` is left."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


class AsgiServer:
    """The Procfile's `ws` process: the ASGI application under `python -m realtime.serve`,
    with `processes` server processes."""

    def __init__(self, *, log: Path, redis_url: str | None = None, processes: int = 1) -> None:
        self.port = port_free_in(8100, 8199)
        self.log = log
        self.redis_url = redis_url or settings.REDIS_URL
        self.processes = processes
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/notifications/"

    def _command(self) -> list[str]:
        return ["bash", "-c", f"exec {procfile_command('ws')}"]

    def _env(self) -> dict[str, str]:
        # Django runs each HTTP request's sync code on a thread of its own under ASGI.
        return {"CONN_MAX_AGE": "0", "WS_CONCURRENCY": str(self.processes)}

    def start(self) -> "AsgiServer":
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "api.config.settings.test",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": self.redis_url,
            "PORT": str(self.port),
            "WS_PORT": str(self.port),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            **self._env(),
        }
        command = self._command()
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - the Procfile's own command
                command, cwd=BASE_DIR, env=env, stdout=out, stderr=out, start_new_session=True
            )
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                if self.call("GET", "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(command)} did not start:\n{self.log.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def call(self, method: str, path: str, body=None, token: str | None = None, headers=None):
        status, _, answer = self.request(method, path, body, token, headers)
        return status, answer

    def request(self, method: str, path: str, body=None, token: str | None = None, headers=None):
        """`call`, with the response headers: (status, headers, JSON body)."""
        request = urllib.request.Request(  # noqa: S310 - a local http URL we built
            self.base_url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {token}"} if token else {}),
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                return response.status, response.headers, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, error.headers, json.loads(error.read() or b"{}")


class WsgiServer(AsgiServer):
    """The REST API as the Procfile's `web` command serves it (granian, `workers` processes)."""

    def __init__(self, *, log: Path, workers: int = 2) -> None:
        super().__init__(log=log)
        self.workers = workers

    def _command(self) -> list[str]:
        return ["bash", "-c", f"exec {procfile_command('web')}"]

    def _env(self) -> dict[str, str]:
        return {"WEB_CONCURRENCY": str(self.workers)}


class Watcher:
    """An open notifications socket; every message it receives is kept in `messages`."""

    def __init__(self, url: str) -> None:
        self._stack = contextlib.ExitStack()
        self.socket = self._stack.enter_context(connect(url, open_timeout=TIMEOUT, close_timeout=5))
        self.messages: list[dict[str, Any]] = []
        self.closed = False
        self.close_code: int | None = None
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for raw in self.socket:
                with self._changed:
                    self.messages.append(json.loads(raw))
                    self._changed.notify_all()
        except Exception:  # noqa: S110 - a dropped connection ends the recording as a close does
            pass
        with self._changed:
            self.closed = True
            self.close_code = self.socket.close_code
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = TIMEOUT) -> list[dict[str, Any]]:
        """Waits until `count` messages arrived in all; returns all of them."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: len(self.messages) >= count or self.closed, timeout
            ):
                raise AssertionError(f"{len(self.messages)} of {count} messages: {self.messages}")
            return list(self.messages)

    def sync(self, at_least: int = 0, timeout: float = TIMEOUT) -> int:
        """Pings and waits for the pong; returns its seq. After it, every stored event up to
        that seq has been received. A pong answers from the server's view of the latest seq,
        up to a second old: with `at_least`, pings again each second until the pong says so."""
        deadline = time.monotonic() + timeout
        while True:
            seq = self._ping(max(0.0, deadline - time.monotonic()))
            if seq >= at_least or time.monotonic() > deadline:
                return seq
            time.sleep(1)

    def _ping(self, timeout: float) -> int:
        pongs = sum(m["type"] == "pong" for m in self.messages)
        self.socket.send(json.dumps({"type": "ping"}))
        with self._changed:
            if not self._changed.wait_for(
                lambda: sum(m["type"] == "pong" for m in self.messages) > pongs or self.closed,
                timeout,
            ):
                raise AssertionError("no pong")
            return [m for m in self.messages if m["type"] == "pong"][-1]["seq"]

    def wait_closed(self, timeout: float = TIMEOUT) -> int | None:
        """Waits until the server closed the socket; returns the close code (None when the
        connection dropped without a close frame)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.closed, timeout):
                raise AssertionError(f"still open after {timeout} s")
            return self.close_code

    def events(self) -> list[dict[str, Any]]:
        """The messages received, without hello and pongs."""
        return [m for m in self.messages if m["type"] not in ("hello", "pong")]

    def close(self) -> None:
        self._stack.close()
