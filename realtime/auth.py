"""WebSocket tickets: single use, bound to a user, 30 s.

A ticket is a random token handed out over the authenticated REST API and presented once in
the socket URL, so access tokens never travel in URLs. Redis keeps only a hash of it, under
a key that expires after the ticket's lifetime, and the connection consumes it with GETDEL:
of two connections presenting the same ticket, exactly one gets the user.
"""

import hashlib
import secrets
from urllib.parse import parse_qs

from django.conf import settings

from api.core.redis import redis_client as sync_redis_client
from realtime.redis import REDIS_ERRORS, redis_client

_KEY_PREFIX = "vaultpay:ws-ticket:"


def _key(ticket: str) -> str:
    return _KEY_PREFIX + hashlib.sha256(ticket.encode()).hexdigest()


def ticket_issue(*, user_id: object) -> str:
    """A new ticket for `user_id`, valid for REALTIME_TICKET_TTL_SECONDS."""
    ticket = secrets.token_urlsafe(32)
    sync_redis_client().set(_key(ticket), str(user_id), ex=settings.REALTIME_TICKET_TTL_SECONDS)
    return ticket


async def ticket_consume(*, ticket: str) -> str | None:
    """The user id the ticket was issued to, or None when it is unknown, used or expired.
    Atomic (GETDEL): a ticket is good for one connection. Raises one of REDIS_ERRORS when
    Redis does not answer within its short timeout."""
    if not ticket or len(ticket) > 128:
        return None
    user_id = await redis_client().getdel(_key(ticket))
    return None if user_id is None else user_id.decode()


class TicketAuthMiddleware:
    """Consumes the `ticket` of the query string and puts its user id into
    `scope["ticket_user_id"]` (None without a valid ticket), and `scope["ticket_unchecked"]`:
    True when Redis could not be asked. The consumer accepts either way and closes 4401
    without a user (1013 when unchecked), so clients can tell a bad ticket from a refused
    origin and from an outage."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin1"), keep_blank_values=True)
        tickets = query.get("ticket", [])
        user_id, unchecked = None, False
        if len(tickets) == 1:
            try:
                user_id = await ticket_consume(ticket=tickets[0])
            except REDIS_ERRORS:
                unchecked = True
        scope = {**scope, "ticket_user_id": user_id, "ticket_unchecked": unchecked}
        return await self.application(scope, receive, send)
