from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from api.transfers.audit import ledger_audit_run


@contextmanager
def _one_snapshot():
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


class Command(BaseCommand):
    help = (
        "Checks every ledger invariant in one snapshot; prints each violation on its own line "
        "and exits non-zero when there is any."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stale-after",
            type=int,
            default=60,
            metavar="SECONDS",
            help="a PENDING transfer older than this is a violation (default 60)",
        )

    def handle(self, *args, stale_after: int, **options):
        if stale_after < 0:
            raise CommandError("--stale-after must be 0 or more seconds.")
        with _one_snapshot():
            report = ledger_audit_run(stale_after_seconds=stale_after)
        for violation in report.violations:
            self.stdout.write(violation)
        if report.violations:
            raise CommandError(
                f"ledger audit FAILED: {len(report.violations)} violation(s); {report.counts}"
            )
        self.stdout.write(f"ledger OK: {report.counts}")
