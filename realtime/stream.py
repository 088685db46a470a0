"""What a socket reads from the database: whether its user may connect, the latest seq, and
stored events to replay or to fill a gap with. Synchronous; consumers call them through
`read`, on the one thread a server process keeps for them.

Reads go through the selectors of `api.users` and `api.transfers` only.
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from api.transfers.selectors import (
    user_event_seq_latest,
    user_events_after,
    users_event_seq_latest,
)
from api.users.selectors import user_is_active
from realtime.close_codes import BAD_AFTER_SEQ, BAD_TICKET, TOO_OLD

AFTER_SEQ_PATTERN = re.compile(r"0|[1-9][0-9]{0,17}")


async def read(function, **kwargs):
    """Runs `function(**kwargs)` on the process's single thread for synchronous code, so a
    WebSocket server process holds one PostgreSQL connection however many sockets it serves.

    Unlike Channels' `database_sync_to_async`, it does not close and health-check the
    connection around every call (a `SELECT 1` round trip before each read, most of the
    consumer's database time in the fan-out profile): the connection is kept for the life
    of the process, and a broken one is replaced, once, when a read fails on it. When that
    fails too (PostgreSQL is down) the error, a `django.db.Error`, reaches the caller; the
    next read connects afresh, so the process recovers by itself once PostgreSQL is back.
    """
    return await sync_to_async(_read_on_thread, thread_sensitive=True)(function, kwargs)


def _read_on_thread(function, kwargs):
    try:
        return function(**kwargs)
    except (InterfaceError, OperationalError):
        connection.close()
        return function(**kwargs)


def after_seq_parse(values: list[str]) -> int | None:
    """`after_seq` of the query string: None when absent; raises ValueError unless it is
    given once, as a whole number without sign or leading zeros."""
    if not values:
        return None
    if len(values) != 1 or not AFTER_SEQ_PATTERN.fullmatch(values[0]):
        raise ValueError(values)
    return int(values[0])


@dataclass
class Opening:
    """The start of a socket's stream: `close` (a close code) or `latest` and the stored
    messages to replay, in seq order."""

    close: int | None = None
    latest: int = 0
    replay: list[dict[str, Any]] = field(default_factory=list)


def stream_open(*, user_id: str, after_seq: int | None) -> Opening:
    """Checks the user may connect and reads what the socket sends first.

    Without `after_seq` nothing is replayed. With it, every stored event after it up to the
    latest: refused 4400 when `after_seq` is beyond the latest seq (not a seq this user has
    seen), 4410 when more than REALTIME_MAX_BEHIND events behind or when the first missed
    event is past the retention period (or already purged): the client reloads over REST.
    """
    if not user_is_active(user_id=user_id):
        return Opening(close=BAD_TICKET)
    latest = user_event_seq_latest(user_id=user_id)
    if after_seq is None:
        return Opening(latest=latest)
    if after_seq > latest:
        return Opening(close=BAD_AFTER_SEQ)
    if latest - after_seq > settings.REALTIME_MAX_BEHIND:
        return Opening(close=TOO_OLD)
    events = user_events_after(user_id=user_id, after_seq=after_seq, through_seq=latest)
    oldest_kept = timezone.now() - timedelta(days=settings.REALTIME_RETENTION_DAYS)
    if len(events) != latest - after_seq or (events and events[0].created_at < oldest_kept):
        return Opening(close=TOO_OLD)
    return Opening(latest=latest, replay=[event.message for event in events])


def events_between(
    *, user_id: str, after_seq: int, through_seq: int
) -> list[dict[str, Any]] | None:
    """The stored messages with `after_seq` < seq <= `through_seq`, or None when any of them
    is missing (purged): the socket cannot continue without a gap."""
    events = user_events_after(user_id=user_id, after_seq=after_seq, through_seq=through_seq)
    if len(events) != through_seq - after_seq:
        return None
    return [event.message for event in events]


def latest_seqs(*, user_ids: set[str]) -> dict[str, int]:
    return users_event_seq_latest(user_ids=user_ids)
