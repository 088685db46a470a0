from django.core.management.base import BaseCommand, CommandError

from api.transfers.audit import audit_snapshot, ledger_audit_run


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
        with audit_snapshot():
            report = ledger_audit_run(stale_after_seconds=stale_after)
        for violation in report.violations:
            self.stdout.write(violation)
        if report.violations:
            raise CommandError(
                f"ledger audit FAILED: {len(report.violations)} violation(s); {report.counts}"
            )
        self.stdout.write(f"ledger OK: {report.counts}")
