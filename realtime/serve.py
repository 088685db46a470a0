"""`python -m realtime.serve --host H --port P [--processes N]`: the socket server (Procfile
`ws`).

With `--processes N` (N > 1) this process only supervises N server processes, each listening
on the same port with SO_REUSEPORT, so the kernel spreads new connections over them: a
process fans live messages out on one core, and a busy machine has more. It forwards SIGTERM
and SIGINT to them as SIGTERM, waits for them within SHUTDOWN_DEADLINE_SECONDS (and a second
more), then kills what is left; when one of them ends by itself it stops the others and exits
non-zero, so that the process manager restarts the whole server (its clients resume by seq).

Each server process is uvicorn serving `api.config.asgi`, with a shutdown that ends within
SHUTDOWN_DEADLINE_SECONDS of SIGTERM or SIGINT however its Redis and PostgreSQL connections
are doing:

1. uvicorn stops listening and closes every socket 1012 (service restart), so clients resume
   elsewhere with `after_seq`;
2. it waits up to GRACEFUL_SECONDS for the sockets' tasks to end, then cancels them;
3. the process unregisters what it still has in the socket registry, drops its heartbeat and
   closes its subscriber connection, each step bounded;
4. a watchdog armed by the first signal ends the process at SHUTDOWN_DEADLINE_SECONDS,
   whatever still waits. After Redis was stopped and started under open sockets, a Redis
   read could swallow its cancellation and keep polling Redis (realtime/redis.py), and
   uvicorn (without a graceful timeout) then waited for it forever; nor does the interpreter
   bound its wait for worker threads at exit (a database read on a dead connection).
"""

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import uvicorn

# The ASGI application, as an import string: uvicorn imports it once Django's settings are set.
APPLICATION = "api.config.asgi:application"
GRACEFUL_SECONDS = 3
SHUTDOWN_DEADLINE_SECONDS = 8.0
LISTEN_BACKLOG = 2048

logger = logging.getLogger(__name__)


class SocketServer(uvicorn.Server):
    def handle_exit(self, sig, frame) -> None:
        if not self.should_exit:
            watchdog = threading.Timer(SHUTDOWN_DEADLINE_SECONDS, _exit_now)
            watchdog.daemon = True
            watchdog.start()
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets=None) -> None:
        await super().shutdown(sockets)
        # Imported here: it reads models, and uvicorn sets Django up only as it loads the app.
        from realtime.process import socket_server_shutdown

        await socket_server_shutdown()


def _exit_now() -> None:
    logger.error("Shutdown took over %s s; exiting now", SHUTDOWN_DEADLINE_SECONDS)
    logging.shutdown()
    os._exit(1)


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port) that other server processes may share (SO_REUSEPORT):
    the kernel hands each new connection to one of them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(LISTEN_BACKLOG)
    return sock


def serve(host: str, port: int) -> None:
    config = uvicorn.Config(
        APPLICATION,
        lifespan="off",
        access_log=False,
        # uvicorn's lines go through Django's LOGGING (api/core/logs.py), as the app's do.
        log_config=None,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    SocketServer(config).run(sockets=[listening_socket(host, port)])


def supervise(host: str, port: int, processes: int) -> int:
    """Runs `processes` server processes until a signal (0) or until one ends by itself (1)."""
    command = [sys.executable, "-m", "realtime.serve", "--host", host, "--port", str(port)]
    children = [subprocess.Popen(command) for _ in range(processes)]  # noqa: S603 - ourselves
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    while not stopping.wait(0.5):
        if any(child.poll() is not None for child in children):
            logger.error("A socket server process ended; stopping the others")
            break
    # SIGTERM even for a SIGINT: a second SIGINT (a terminal's Ctrl-C reached them already)
    # would make uvicorn skip the graceful close.
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + SHUTDOWN_DEADLINE_SECONDS + 1
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return 0 if stopping.is_set() else 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m realtime.serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--processes", type=int, default=1, help="server processes (1)")
    args = parser.parse_args(argv)
    if args.processes > 1:
        sys.exit(supervise(args.host, args.port, args.processes))
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
