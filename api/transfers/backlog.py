"""Backpressure: how far settlement is behind, as this process last saw it.

New transfers and deposits are refused (503 `overloaded`) while the PENDING backlog holds
more than MAX_PENDING transfers or its oldest has waited more than MAX_PENDING_AGE seconds
(README "Faults and overload"). Requests never count the backlog themselves: a daemon thread
per process reads it from PostgreSQL, at most once a second while requests ask, so the check
costs a request nothing and works without Redis. The thread starts with the first check in a
process (again in a forked child) and keeps a database connection of its own while busy.
"""

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from api.transfers.models import Transfer

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0
# The watcher closes its database connection after this long without requests.
IDLE_SECONDS = 30.0
# A view older than this (the database is down or slow) is no view: accepts then go on and
# meet the database themselves.
STALE_SECONDS = 5.0
OVERLOADED_RETRY_AFTER_SECONDS = 2


@dataclass(frozen=True)
class BacklogView:
    pending: int  # counted up to MAX_PENDING + 1
    oldest_created_at: datetime | None
    read_at: float  # time.monotonic()


def backlog_read() -> BacklogView:
    """Counts PENDING transfers (no further than MAX_PENDING + 1) and finds the oldest: the
    first in each partition's acceptance order, one index lookup per partition (a query
    each: SQLite cannot combine limited queries, and once a second the cost is nothing)."""
    pending = Transfer.objects.filter(status=Transfer.Status.PENDING)
    count = pending[: settings.MAX_PENDING + 1].count()
    return BacklogView(pending=count, oldest_created_at=_oldest(), read_at=time.monotonic())


def backlog_measure() -> tuple[int, datetime | None]:
    """The exact number of PENDING transfers and when the oldest was accepted (metrics, at
    scrape time: an index-only count over the partial index of PENDING rows)."""
    return Transfer.objects.filter(status=Transfer.Status.PENDING).count(), _oldest()


def _oldest() -> datetime | None:
    pending = Transfer.objects.filter(status=Transfer.Status.PENDING)
    firsts = (
        pending.filter(partition=partition).order_by("id").values_list("created_at", flat=True)
        for partition in range(settings.SETTLEMENT_PARTITIONS)
    )
    return min(filter(None, (first.first() for first in firsts)), default=None)


class _Watcher:
    """Reads the backlog on a thread of its own when a request finds the view older than
    REFRESH_SECONDS, and no more often; an idle process reads nothing and gives its
    connection back."""

    def __init__(self) -> None:
        self.view: BacklogView | None = None
        self._wanted = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def current(self) -> BacklogView | None:
        view = self.view
        if view is None or time.monotonic() - view.read_at >= REFRESH_SECONDS:
            self._wanted.set()
            if self._thread is None:
                self._start()
        return view

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="backlog", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopped.is_set():
            if not self._wanted.wait(IDLE_SECONDS):
                connection.close()
                continue
            self._wanted.clear()
            try:
                close_old_connections()  # drops a connection that failed, as between requests
                self.view = backlog_read()
            except Exception:
                logger.warning("Could not read the settlement backlog", exc_info=True)
            self._stopped.wait(REFRESH_SECONDS)
        connection.close()


_watcher = _Watcher()


def _watcher_reset() -> None:
    # A forked child has none of its parent's threads.
    global _watcher
    _watcher = _Watcher()


os.register_at_fork(after_in_child=_watcher_reset)


def backlog_overloaded() -> bool:
    """Whether new transfers must be refused, by this process's view of the backlog (at most
    a second old). False until the first view is read, and while the view is stale."""
    view = _watcher.current()
    if view is None or time.monotonic() - view.read_at > STALE_SECONDS:
        return False
    if view.pending > settings.MAX_PENDING:
        return True
    oldest = view.oldest_created_at
    if oldest is None:
        return False
    return (timezone.now() - oldest).total_seconds() > settings.MAX_PENDING_AGE


def backlog_watch_stop() -> None:
    """Stops this process's watcher and closes its connection (tests, before the test
    database is dropped)."""
    _watcher.stop()
