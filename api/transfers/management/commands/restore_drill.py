from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from api.core.restore_drill import DrillError, restore_drill

MAX_NAME = 63  # PostgreSQL's identifier limit


class Command(BaseCommand):
    help = (
        "Restore drill: pg_dump the database, restore it into a new database, check that the "
        "copy holds every row of the dump's snapshot and that ledger_audit passes on it; the "
        "copy and the dump are removed unless --keep. Exits non-zero when any step fails."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--into", help="name of the new database (default <name>_restore_<UTC time>)"
        )
        parser.add_argument(
            "--keep", action="store_true", help="keep the restored copy and the dump"
        )
        parser.add_argument(
            "--dump-dir",
            type=Path,
            default=None,
            help="where the dump is written (default <run folder>/restore-drill)",
        )

    def handle(self, *args, into: str | None, keep: bool, dump_dir: Path | None, **options):
        source = settings.DATABASES["default"]["NAME"]
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        copy = into or f"{str(source)[: MAX_NAME - 23]}_restore_{stamp}"
        if copy == source:
            raise CommandError("--into names the database being drilled.")
        workdir = dump_dir or Path(settings.RUN_DIR) / "restore-drill"
        try:
            drill = restore_drill(copy=copy, workdir=workdir, check=["ledger_audit"], keep=keep)
        except DrillError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(drill.counted.values())
        self.stdout.write(
            f"dumped {drill.source} ({rows:,} rows in {len(drill.counted)} tables, "
            f"{drill.dump_bytes / 1024:,.0f} KiB) in {drill.seconds['dump']:.1f}s; restored "
            f"into {drill.copy} in {drill.seconds['restore']:.1f}s"
        )
        if drill.counts_match:
            self.stdout.write("rows: the copy holds every row of the dump's snapshot")
        else:
            differ = {
                table: (count, drill.restored.get(table))
                for table, count in drill.counted.items()
                if drill.restored.get(table) != count
            }
            self.stdout.write(f"rows differ (snapshot, copy): {differ}")
        self.stdout.write(f"ledger_audit on the copy: {drill.check_output}")
        self.stdout.write(
            f"kept {drill.copy} and {drill.dump}" if keep else f"dropped {drill.copy}"
        )
        if not drill.passed:
            raise CommandError("restore drill FAILED")
        self.stdout.write("restore drill OK")
