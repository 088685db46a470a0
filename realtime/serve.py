"""`python -m realtime.serve --host H --port P`: the socket server process (Procfile `ws`).

uvicorn serving `api.config.asgi`, with a shutdown that ends within SHUTDOWN_DEADLINE_SECONDS
of SIGTERM or SIGINT however the process's Redis and PostgreSQL connections are doing:

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
import threading

import uvicorn

# The ASGI application, as an import string: uvicorn imports it once Django's settings are set.
APPLICATION = "api.config.asgi:application"
GRACEFUL_SECONDS = 3
SHUTDOWN_DEADLINE_SECONDS = 8.0

logger = logging.getLogger(__name__)


class HandshakePathWithoutQuery(logging.Filter):
    """uvicorn logs every WebSocket handshake with its path and query string, which holds the
    single-use ticket: tickets are never logged, so the query string is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and '"WebSocket %s"' in record.msg:
            record.args = tuple(
                arg.split("?", 1)[0] if isinstance(arg, str) else arg for arg in record.args
            )
        return True


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m realtime.serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    config = uvicorn.Config(
        APPLICATION,
        host=args.host,
        port=args.port,
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    logging.getLogger("uvicorn.error").addFilter(HandshakePathWithoutQuery())
    SocketServer(config).run()


if __name__ == "__main__":
    main()
