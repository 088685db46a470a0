"""The one SQL statement behind `services.transfer_accept_fast` (README, "How it works", Accept).

It resolves both accounts, reads the idempotency key, inserts the PENDING transfer when the
key is new and returns the transfer with both parties: one round trip for a new transfer or
a replay. It is a server-side prepared statement, prepared once per database connection, so
PostgreSQL does not plan it again for every request (planning cost more than running it).
"""

import uuid
from datetime import datetime
from functools import cache

from django.db import connection

from api.accounts.models import Account
from api.transfers.models import Transfer

NAME = "transfer_accept_fast"
# Columns of the returned row, in order.
COLUMNS = [
    "id",
    "uuid",
    "status",
    "failure_code",
    "amount",
    "note",
    "created_at",
    "settled_at",
    "fingerprint",
    "created",
    "partition",
    "sender_user_id",
    "sender_full_name",
    "sender_email",
    "receiver_user_id",
    "receiver_full_name",
    "receiver_email",
]


def accept_row(
    *,
    sender_user_id: uuid.UUID,
    email: str,
    idempotency_key: str,
    public_id: uuid.UUID,
    amount: int,
    note: str,
    fingerprint: str,
    partitions: int,
    now: datetime,
    request_id: str | None,
) -> dict | None:
    """The inserted transfer (`created` true) or the one already stored under the key
    (`created` false), as a dict of COLUMNS; None when neither: the sender has no wallet,
    the receiver is not an active user or is the sender, or a concurrent request of the
    same key committed after the statement began (its row is then readable)."""
    params = [
        sender_user_id, email, idempotency_key, public_id, amount, note, fingerprint,
        partitions, now, request_id,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        raw = connection.connection
        if getattr(connection, "accept_prepared_on", None) is not raw:
            cursor.execute(_prepare_sql())
            connection.accept_prepared_on = raw  # a new connection prepares again
        cursor.execute(f"EXECUTE {NAME} ({', '.join(['%s'] * len(params))})", params)
        row = cursor.fetchone()
    return None if row is None else dict(zip(COLUMNS, row, strict=True))


@cache
def _prepare_sql() -> str:
    """`known` reads the key in the statement's snapshot; the INSERT runs only when it is
    absent, and its ON CONFLICT covers a concurrent insert of the same key (which then
    returns no row). The partition is `partitions.partition_of`, computed in SQL."""
    users = Account._meta.get_field("user").related_model._meta.db_table
    accounts = Account._meta.db_table
    transfers = Transfer._meta.db_table
    columns = "id, uuid, status, failure_code, amount, note, created_at, settled_at, fingerprint"
    known_columns = ", ".join(f"t.{column}" for column in columns.split(", "))
    return f"""
        PREPARE {NAME} (uuid, varchar, varchar, uuid, bigint, varchar, varchar, integer,
                        timestamptz, varchar) AS
        WITH sender AS (
            SELECT a.id, u.id AS user_id, u.full_name, u.email
            FROM {accounts} a JOIN {users} u ON u.id = a.user_id
            WHERE a.user_id = $1
        ), receiver AS (
            SELECT a.id FROM {users} u JOIN {accounts} a ON a.user_id = u.id
            WHERE u.email = $2 AND u.is_active
        ), known AS (
            SELECT {known_columns}, false AS created, t.partition, t.receiver_id
            FROM {transfers} t JOIN sender s ON t.sender_id = s.id
            WHERE t.idempotency_key = $3
        ), inserted AS (
            INSERT INTO {transfers} (uuid, kind, sender_id, receiver_id, amount, note, status,
                                     idempotency_key, fingerprint, partition, created_at,
                                     request_id)
            SELECT $4, '{Transfer.Kind.PAYMENT}', s.id, r.id, $5, $6,
                   '{Transfer.Status.PENDING}', $3, $7, s.id % $8, $9, $10
            FROM sender s, receiver r
            WHERE s.id <> r.id AND NOT EXISTS (SELECT FROM known)
            ON CONFLICT (sender_id, idempotency_key) DO NOTHING
            RETURNING {columns}, true AS created, partition, receiver_id
        )
        SELECT t.id, t.uuid, t.status, t.failure_code, t.amount, t.note, t.created_at,
               t.settled_at, t.fingerprint, t.created, t.partition,
               s.user_id, s.full_name, s.email, u.id, u.full_name, u.email
        FROM (SELECT * FROM inserted UNION ALL SELECT * FROM known) t
        CROSS JOIN sender s
        JOIN {accounts} a ON a.id = t.receiver_id JOIN {users} u ON u.id = a.user_id
    """  # noqa: S608 (only model metadata is interpolated; values are parameters)
