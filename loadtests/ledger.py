"""What a load run reads from the database directly, as an operator would: how many
transfers are PENDING (to time drains without adding HTTP load), the outcomes and timeline of
a scenario's transfers (selected by their Idempotency-Key prefix), balances and socket seqs.
"""

import time

import psycopg2


class Ledger:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._connection = None

    def _cursor(self):
        if self._connection is None:
            self._connection = psycopg2.connect(self.database_url, connect_timeout=5)
            self._connection.autocommit = True
        return self._connection.cursor()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _one(self, sql: str, params=()) -> tuple:
        with self._cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    def _all(self, sql: str, params=()) -> list[tuple]:
        with self._cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def pending_count(self) -> int:
        return self._one("SELECT count(*) FROM transfers_transfer WHERE status = 'PENDING'")[0]

    def wait_drained(self, *, timeout: float, poll: float = 0.05) -> float:
        """Waits until no transfer is PENDING; returns the monotonic time it saw that."""
        deadline = time.monotonic() + timeout
        while pending := self.pending_count():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{pending} transfers still PENDING")
            time.sleep(poll)
        return time.monotonic()

    def outcomes(self, *, key_prefix: str) -> dict[str, int]:
        """Counts by outcome (`SUCCESS`, a failure code, `PENDING`) of the transfers whose
        idempotency keys start with `key_prefix`."""
        return dict(
            self._all(
                "SELECT coalesce(failure_code, status), count(*) FROM transfers_transfer "
                "WHERE idempotency_key LIKE %s GROUP BY 1",
                [key_prefix + "%"],
            )
        )

    def timeline(self, *, key_prefix: str) -> dict:
        """Of the transfers whose keys start with `key_prefix`: how many, the first accept,
        the last settlement, and p50/p95/p99 of accept -> settled (database clock, seconds)."""
        count, first, settled, waits = self._one(
            "SELECT count(*), extract(epoch FROM min(created_at)), "
            "extract(epoch FROM max(settled_at)), "
            "percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP "
            "(ORDER BY extract(epoch FROM settled_at - created_at)) "
            "FROM transfers_transfer WHERE idempotency_key LIKE %s",
            [key_prefix + "%"],
        )
        return {"count": count, "first": first, "settled": settled, "settle_wait": waits or []}

    def settled_between(self, *, key_prefix: str, start: float, end: float) -> dict:
        """Of the transfers whose keys start with `key_prefix`, those settled (SUCCESS or
        FAILED) from `start` to `end` (wall clock, seconds): how many of each, and p50/p99
        of their accept -> settled (seconds)."""
        rows = self._all(
            "SELECT status, count(*) FROM transfers_transfer "
            "WHERE idempotency_key LIKE %s AND status <> 'PENDING' "
            "AND settled_at >= to_timestamp(%s) AND settled_at < to_timestamp(%s) "
            "GROUP BY status",
            [key_prefix + "%", start, end],
        )
        waits = self._one(
            "SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP "
            "(ORDER BY extract(epoch FROM settled_at - created_at)) "
            "FROM transfers_transfer WHERE idempotency_key LIKE %s AND status <> 'PENDING' "
            "AND settled_at >= to_timestamp(%s) AND settled_at < to_timestamp(%s)",
            [key_prefix + "%", start, end],
        )[0]
        return {"outcomes": dict(rows), "settle_wait": waits or []}

    def server_settings(self, *names: str) -> dict[str, str]:
        """`SHOW name` for each name, as the server answers it (fsync, synchronous_commit)."""
        found = {}
        for name in names:
            with self._cursor() as cursor:
                cursor.execute(f"SHOW {name}")  # names are the caller's constants
                found[name] = cursor.fetchone()[0]
        return found

    def balance(self, *, email: str) -> str:
        """A wallet's balance as the API writes it (`"125.50"`)."""
        paise = self._one(
            "SELECT a.balance FROM accounts_account a JOIN users_user u ON u.id = a.user_id "
            "WHERE u.email = %s",
            [email],
        )[0]
        return f"{paise // 100}.{paise % 100:02d}"

    def latest_seqs(self, emails: list[str]) -> dict[str, int]:
        """Each user's latest event seq as stored."""
        return dict(
            self._all(
                "SELECT u.email, a.last_seq FROM accounts_account a "
                "JOIN users_user u ON u.id = a.user_id WHERE u.email = ANY(%s)",
                [emails],
            )
        )
