"""Publishes already-built realtime messages to the sockets of given users.

A leaf: it knows users' channels and nothing of transfers, balances or events. Callers build
the messages (each a dict with a `type` naming the consumer handler and, for events, a `seq`)
and call these functions only after their transaction has committed (from
`transaction.on_commit`), so a rolled-back transaction sends nothing.

Publishing is at most once (realtime.live): what no socket server is subscribed for at that
moment is lost. Sockets never depend on it for completeness: they fill gaps in `seq` from the
database.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from redis.exceptions import RedisError

from realtime import live

# Close code of a socket whose user was deactivated (docs/socket-protocol.md).
CLOSE_USER_DEACTIVATED = 4401
# Type of the envelope that carries several messages for one user (see `messages_send`).
BATCH = "messages.batch"
# The Unix time of publication, added to each publication for the socket server's
# delivery-latency metric; the socket removes it before sending.
PUBLISHED_AT = "published_at"

logger = logging.getLogger(__name__)


def messages_send(*, messages: Iterable[tuple[object, dict[str, Any]]]) -> None:
    """Sends each (user id, message) to that user's sockets: one user's messages in the order
    given, in one envelope (`messages.batch`) when there are several; every user's in one
    round trip to Redis. Returns once Redis has handed them to the socket servers.

    Never raises: a failure (Redis down, a timeout) is logged and the messages are lost,
    which sockets repair from the database on their next message or within a second. So it
    is safe in `transaction.on_commit` callbacks, where an exception would reach the
    committing caller.
    """
    by_user: dict[object, list[dict[str, Any]]] = defaultdict(list)
    for user_id, message in messages:
        by_user[user_id].append(message)
    published_at = time.time()
    publications = [
        (
            user_id,
            {
                **(batch[0] if len(batch) == 1 else {"type": BATCH, "messages": batch}),
                PUBLISHED_AT: published_at,
            },
        )
        for user_id, batch in by_user.items()
    ]
    try:
        live.publish(publications)
    except RedisError as error:
        logger.warning(
            "Realtime messages for %d users not published: %s", len(by_user), type(error).__name__
        )
    except Exception:
        logger.exception("Realtime messages for %d users not published", len(by_user))


def user_sockets_close(*, user_ids: Iterable[object]) -> None:
    """Closes every open socket of these users with 4401 (their tickets no longer count).
    Never raises, like `messages_send`; a socket it misses is refused on its next connect."""
    message = {"type": "sockets.close", "code": CLOSE_USER_DEACTIVATED}
    messages_send(messages=[(user_id, message) for user_id in user_ids])
