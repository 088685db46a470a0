"""The ledger's invariants, checked with aggregate SQL so the audit stays fast at millions of
rows. Each check yields one line per violation, `<name>: <rows concerned>`; at most
`LISTED_PER_CHECK` rows of a check are listed."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import structlog
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from api.accounts.models import Account
from api.core.metrics.store import mark
from api.core.money import format_paise
from api.transfers.models import Event, LedgerEntry, Transfer
from api.transfers.payloads import timestamp_format

LISTED_PER_CHECK = 100

logger = structlog.get_logger("vaultpay.audit")


@dataclass(frozen=True)
class AuditReport:
    violations: list[str]
    counts: str


def ledger_audit_run(*, stale_after_seconds: int) -> AuditReport:
    """Runs every check. Run it in one snapshot (the `ledger_audit` command opens a REPEATABLE
    READ transaction) so the checks agree with each other under concurrent settlement."""
    checks = [
        _balances_sum_to_zero(),
        _balances_match_entries(),
        _successes_have_two_matching_entries(),
        _unsettled_have_no_entries(),
        _wallets_never_below_zero(),
        _wallet_entries_never_below_zero(),
        _no_stale_pending(stale_after_seconds=stale_after_seconds),
        _event_seqs_gapless(),
    ]
    violations = [line for check in checks for line in check]
    return AuditReport(violations=violations, counts=_counts())


def ledger_audit_quick_run(*, stale_after_seconds: int = 60) -> list[str]:
    """The checks that read no table in full but accounts (balances sum to zero, no wallet
    below zero) and the partial index of PENDING transfers (none stale), in one snapshot;
    beat runs it every minute for the metrics, where the full audit would scan every entry
    and event. Records the outcome in the metrics, logs it, and returns the violations."""
    started = time.perf_counter()
    with audit_snapshot():
        checks = [
            _balances_sum_to_zero(),
            _wallets_never_below_zero(),
            _no_stale_pending(stale_after_seconds=stale_after_seconds),
        ]
        violations = [line for check in checks for line in check]
    seconds = time.perf_counter() - started
    mark("vaultpay_ledger_audit_violations", len(violations))
    mark("vaultpay_ledger_audit_seconds", seconds)
    mark("vaultpay_ledger_audit_last_run_timestamp_seconds", time.time())
    if violations:
        logger.error("ledger audit failed", checks="quick", violations=violations)
    else:
        logger.info("ledger audit ok", checks="quick", duration_ms=round(seconds * 1000, 2))
    return violations


@contextmanager
def audit_snapshot():
    """An outermost transaction that sees one snapshot: REPEATABLE READ, READ ONLY on
    PostgreSQL; SQLite transactions are serializable already. Inside a transaction the caller
    opened (a test case), the caller's transaction is used as it is."""
    isolate = connection.vendor == "postgresql" and not connection.in_atomic_block
    if isolate:
        # SET TRANSACTION must be the transaction's first statement: let Django run a due
        # connection health check (a SELECT) before the transaction begins, not inside it.
        connection.close_if_health_check_failed()
    with transaction.atomic(durable=True):
        if isolate:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _listed(rows, line) -> Iterator[str]:
    rows = list(rows[: LISTED_PER_CHECK + 1])
    for row in rows[:LISTED_PER_CHECK]:
        yield line(row)
    if len(rows) > LISTED_PER_CHECK:
        yield f"... more rows of this check omitted after {LISTED_PER_CHECK}"


def _balances_sum_to_zero() -> Iterator[str]:
    total = Account.objects.aggregate(total=Sum("balance", default=0))["total"]
    if total != 0:
        yield f"balances_sum_not_zero: all balances sum to {format_paise(total)}"


def _balances_match_entries() -> Iterator[str]:
    rows = (
        Account.objects.values("pk", "kind", "balance")
        .annotate(entries_total=Coalesce(Sum("entries__amount"), 0))
        .exclude(balance=F("entries_total"))
        .order_by("pk")
    )
    yield from _listed(
        rows,
        lambda r: (
            f"balance_not_sum_of_entries: account {r['pk']} ({r['kind']}) balance "
            f"{format_paise(r['balance'])}, entries sum {format_paise(r['entries_total'])}"
        ),
    )


def _successes_have_two_matching_entries() -> Iterator[str]:
    """Exactly two entries, -amount on the sender and +amount on the receiver (so they sum to
    zero); a third entry or one on another account breaks the count or a side."""
    rows = (
        Transfer.objects.filter(status=Transfer.Status.SUCCESS)
        .values("pk", "uuid", "amount")
        .annotate(
            entry_count=Count("entries"),
            sender_side=Coalesce(Sum("entries__amount", filter=Q(entries__account=F("sender"))), 0),
            receiver_side=Coalesce(
                Sum("entries__amount", filter=Q(entries__account=F("receiver"))), 0
            ),
        )
        .exclude(entry_count=2, sender_side=-F("amount"), receiver_side=F("amount"))
        .order_by("pk")
    )
    yield from _listed(
        rows,
        lambda r: (
            f"success_entries_wrong: transfer {r['uuid']} (#{r['pk']}) amount "
            f"{format_paise(r['amount'])} has {r['entry_count']} entries, sender side "
            f"{format_paise(r['sender_side'])}, receiver side {format_paise(r['receiver_side'])}"
        ),
    )


def _unsettled_have_no_entries() -> Iterator[str]:
    rows = (
        LedgerEntry.objects.exclude(transfer__status=Transfer.Status.SUCCESS)
        .values("transfer_id", "transfer__uuid", "transfer__status")
        .annotate(entry_count=Count("pk"))
        .order_by("transfer_id")
    )
    yield from _listed(
        rows,
        lambda r: (
            f"entries_on_unsettled_transfer: transfer {r['transfer__uuid']} "
            f"(#{r['transfer_id']}) is {r['transfer__status']} with {r['entry_count']} entries"
        ),
    )


def _wallets_never_below_zero() -> Iterator[str]:
    wallets = Account.objects.filter(kind=Account.Kind.WALLET, balance__lt=0).order_by("pk")
    yield from _listed(
        wallets.values("pk", "balance"),
        lambda r: f"wallet_below_zero: account {r['pk']} balance {format_paise(r['balance'])}",
    )


def _wallet_entries_never_below_zero() -> Iterator[str]:
    entries = LedgerEntry.objects.filter(
        account__kind=Account.Kind.WALLET, balance_after__lt=0
    ).order_by("pk")
    yield from _listed(
        entries.values("pk", "account_id", "transfer__uuid", "balance_after"),
        lambda r: (
            f"wallet_entry_below_zero: entry {r['pk']} of account {r['account_id']} "
            f"(transfer {r['transfer__uuid']}) balance after "
            f"{format_paise(r['balance_after'])}"
        ),
    )


def _no_stale_pending(*, stale_after_seconds: int) -> Iterator[str]:
    cutoff = timezone.now() - timedelta(seconds=stale_after_seconds)
    rows = Transfer.objects.filter(status=Transfer.Status.PENDING, created_at__lt=cutoff)
    yield from _listed(
        rows.order_by("pk").values("pk", "uuid", "created_at"),
        lambda r: (
            f"stale_pending: transfer {r['uuid']} (#{r['pk']}) PENDING since "
            f"{timestamp_format(r['created_at'])}, more than {stale_after_seconds}s"
        ),
    )


def _event_seqs_gapless() -> Iterator[str]:
    """Each user's events are numbered exactly 1..last_seq (seq is unique per user, so the
    count, the minimum and the maximum settle it)."""
    account, event = Account._meta.db_table, Event._meta.db_table
    sql = f"""
        SELECT a.id, a.last_seq, COALESCE(e.n, 0), e.lo, e.hi
        FROM {account} a
        LEFT JOIN (
            SELECT user_id, COUNT(*) AS n, MIN(seq) AS lo, MAX(seq) AS hi
            FROM {event} GROUP BY user_id
        ) e ON e.user_id = a.user_id
        WHERE a.user_id IS NOT NULL
          AND NOT (COALESCE(e.n, 0) = a.last_seq AND COALESCE(e.hi, 0) = a.last_seq
                   AND COALESCE(e.lo, 1) = 1)
        ORDER BY a.id
        LIMIT {LISTED_PER_CHECK + 1}
    """  # noqa: S608 - only table names from the models are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    yield from _listed(
        rows,
        lambda r: (
            f"event_seq_gap: account {r[0]} last_seq {r[1]} but {r[2]} events "
            f"numbered {r[3]}..{r[4]}"
        ),
    )


def _counts() -> str:
    statuses = dict(
        Transfer.objects.values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    treasury = Account.objects.filter(kind=Account.Kind.TREASURY).values_list("balance", flat=True)
    issued = -sum(treasury)
    return (
        f"{Account.objects.count()} accounts, "
        f"{sum(statuses.values())} transfers ({statuses.get('SUCCESS', 0)} success, "
        f"{statuses.get('FAILED', 0)} failed, {statuses.get('PENDING', 0)} pending), "
        f"{LedgerEntry.objects.count()} entries, {Event.objects.count()} events, "
        f"{format_paise(issued)} issued"
    )
