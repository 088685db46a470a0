"""What the database holds for the checker, read once the system is quiet, as an operator
would: the load's transfers with their ledger entries and final events, and every stored
event of the socket users, in seq order."""

from collections import defaultdict

import psycopg2

from loadtests.chaos.checker import Ledger, StoredTransfer

TRANSFERS = """
SELECT t.uuid::text, t.id, su.email, t.idempotency_key, t.status,
       extract(epoch FROM t.created_at), extract(epoch FROM t.settled_at),
       (SELECT count(*) FROM transfers_ledgerentry e WHERE e.transfer_id = t.id),
       (SELECT e.id FROM transfers_ledgerentry e
         WHERE e.transfer_id = t.id AND e.account_id = t.sender_id),
       coalesce(ru.email, '')
  FROM transfers_transfer t
  JOIN accounts_account sa ON sa.id = t.sender_id JOIN users_user su ON su.id = sa.user_id
  JOIN accounts_account ra ON ra.id = t.receiver_id LEFT JOIN users_user ru ON ru.id = ra.user_id
 WHERE t.kind = 'payment'
"""
# A final `transfer.updated` event: the transfer left PENDING (SUCCESS or FAILED).
FINAL_EVENTS = """
SELECT e.payload->>'id', u.email, count(*)
  FROM transfers_event e JOIN users_user u ON u.id = e.user_id
 WHERE e.type = 'transfer.updated' AND e.payload->>'status' IN ('SUCCESS', 'FAILED')
 GROUP BY 1, 2
"""
USER_EVENTS = """
SELECT u.email, e.seq, e.type, e.payload
  FROM transfers_event e JOIN users_user u ON u.id = e.user_id
 WHERE u.email = ANY(%s) ORDER BY u.email, e.seq
"""
MESSAGE_KEYS = {"transfer.updated": "transfer", "balance.updated": "balance"}


def snapshot(database_url: str, *, socket_users: list[str]) -> Ledger:
    """Every payment (in a fault run's database, only the load makes payments; provisioning
    funds wallets with deposits) and the socket users' events, in one snapshot."""
    with psycopg2.connect(database_url, connect_timeout=10) as connection:
        connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with connection.cursor() as cursor:
            cursor.execute(FINAL_EVENTS)
            final_events: dict[str, dict[str, int]] = defaultdict(dict)
            for uuid, email, count in cursor.fetchall():
                final_events[uuid][email] = count
            cursor.execute(TRANSFERS)
            transfers = [
                StoredTransfer(
                    uuid=uuid,
                    accept_order=order,
                    sender=sender,
                    key=key,
                    status=status,
                    created_at=float(created),
                    settled_at=None if settled is None else float(settled),
                    entries=entries,
                    sender_entry=sender_entry,
                    receiver=receiver,
                    final_events=final_events.get(uuid, {}),
                )
                for (
                    uuid, order, sender, key, status, created, settled, entries, sender_entry,
                    receiver,
                ) in cursor.fetchall()
            ]  # fmt: skip
            cursor.execute(USER_EVENTS, [socket_users])
            events: dict[str, list[dict]] = defaultdict(list)
            for email, seq, type_, payload in cursor.fetchall():
                events[email].append({"type": type_, "seq": seq, MESSAGE_KEYS[type_]: payload})
    connection.close()
    return Ledger(transfers=transfers, events=dict(events))
