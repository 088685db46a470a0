"""`manage.py seed_demo`: demo activity over the last 30 days, produced by the real services
under the demo clock, with every row stamped at its moment and the ledger clean."""

import io
import os
import subprocess
import sys
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Max
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from api.accounts.models import Account
from api.config.env import BASE_DIR
from api.transfers.models import Event, LedgerEntry, Transfer
from api.users.management.commands.seed_demo import DEMO_DAYS, demo_email
from api.users.models import User

pytestmark = pytest.mark.django_db

INDIA = ZoneInfo(settings.DISPLAY_TIME_ZONE)


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def audit() -> str:
    out = io.StringIO()
    call_command("ledger_audit", stdout=out)
    return out.getvalue()


def india_day(moment):
    return moment.astimezone(INDIA).date()


def test_demo_activity_spans_the_last_30_days_and_the_ledger_stays_clean():
    started = timezone.now()
    out = seed("--users", "5", "--transfers", "60")

    assert "6 users created" in out  # and the staff user
    assert audit().startswith("ledger OK")
    assert not Transfer.objects.filter(status=Transfer.Status.PENDING).exists()
    today = india_day(started)
    first_day = today - timedelta(days=DEMO_DAYS - 1)
    assert {india_day(u.date_joined) for u in User.objects.all()} == {first_day}
    payments = Transfer.objects.filter(kind=Transfer.Kind.PAYMENT)
    assert payments.count() == 60
    assert min(india_day(t.created_at) for t in payments) < first_day + timedelta(days=7)
    assert max(t.settled_at for t in Transfer.objects.all()) < started

    demo01 = User.objects.get(email=demo_email(1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(demo01)}")
    days = client.get("/api/wallet/cashflow/", {"days": DEMO_DAYS}).json()["days"]
    busy = [d["date"] for d in days if (d["in"], d["out"]) != ("0.00", "0.00")]
    assert days[0]["date"] == first_day.isoformat() and busy[0] == days[0]["date"]  # joined
    assert len(busy) >= 10, busy
    history = client.get("/api/wallet/history/", {"page_size": 100}).json()["results"]
    assert len({row["created_at"][:10] for row in history}) >= 10


def test_every_row_carries_the_demo_moment_it_was_written_at():
    """Nothing is stamped with the real time of the run: entries and events with their
    transfer's settlement, balances with the last one, users with their joining."""
    seed("--users", "4", "--transfers", "30")

    transfers = Transfer.objects.in_bulk()
    for transfer in transfers.values():
        assert (
            transfer.created_at <= transfer.settled_at <= transfer.created_at + timedelta(seconds=2)
        )
    for entry in LedgerEntry.objects.all():
        assert entry.created_at == transfers[entry.transfer_id].settled_at
    settled_at = {t.settled_at for t in transfers.values()}
    assert set(Event.objects.values_list("created_at", flat=True)) <= settled_at
    for account in Account.objects.select_related("user"):
        last = account.entries.aggregate(last=Max("created_at"))["last"]
        if last is None:  # the staff user's wallet: never moved money
            assert account.updated_at == account.user.date_joined
        else:
            assert account.updated_at == last
    assert audit().startswith("ledger OK")


def test_seeding_twice_adds_nothing():
    seed("--users", "3", "--transfers", "6")
    counts = (User.objects.count(), Transfer.objects.count(), Event.objects.count())

    assert "already has users" in seed("--users", "3", "--transfers", "6", "--if-empty")
    assert "0 users created" in seed("--users", "3", "--transfers", "6")
    assert (User.objects.count(), Transfer.objects.count(), Event.objects.count()) == counts


def test_no_sql_default_or_trigger_stamps_the_time():
    """Timestamps come from the application's clock alone, so the demo clock governs them all:
    no column has a database default and no function the schema defines reads the time."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, column_default FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_default IS NOT NULL "
            "AND column_default NOT LIKE 'nextval(%%'"
        )
        defaults = cursor.fetchall()
        cursor.execute(
            "SELECT proname FROM pg_proc JOIN pg_namespace n ON n.oid = pronamespace "
            "WHERE nspname = current_schema() AND prosrc ~* "
            "'now\\(|current_(timestamp|date|time)|localtime|clock_timestamp|statement_timestamp'"
        )
        functions = cursor.fetchall()

    assert defaults == []
    assert functions == []


def test_seed_demo_runs_on_the_embedded_sqlite_database(tmp_path):
    """`make run`'s default storage: migrate, seed and audit a fresh SQLite file."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)},
        "DJANGO_SETTINGS_MODULE": "api.config.settings.local",
        "VAULTPAY_RUN_DIR": str(tmp_path),
    }

    def manage(*args: str) -> str:
        result = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    manage("migrate", "--noinput", "-v0")
    assert "4 users created" in manage("seed_demo", "--users", "3", "--transfers", "24")
    assert manage("ledger_audit").startswith("ledger OK")
    days = manage(
        "shell",
        "-c",
        "from api.transfers.models import LedgerEntry as E; "
        "print(len({e.created_at.date() for e in E.objects.all()}))",
    )
    assert int(days.split()[-1]) >= 5
    assert (tmp_path / "vaultpay.sqlite3").exists()
