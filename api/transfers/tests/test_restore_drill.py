"""`manage.py restore_drill`: a real pg_dump of the test database, restored into a new
database, counted and audited there; a ledger broken at the source is caught on the copy."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from api.accounts.models import Account
from api.transfers.models import LedgerEntry, Transfer

pytestmark = pytest.mark.django_db(transaction=True)


def databases() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database")
        return {name for (name,) in cursor.fetchall()}


def drill(tmp_path, *args: str) -> str:
    out = io.StringIO()
    call_command("restore_drill", "--dump-dir", str(tmp_path), *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def copy_name(transactional_db):
    name = f"{connection.settings_dict['NAME']}_drill"
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_copy_holds_every_row_and_audits_clean_and_is_dropped(make_wallet, tmp_path, copy_name):
    for balance in (500_00, 250_00, 125_50):
        make_wallet(balance=balance)
    output = drill(tmp_path, "--into", copy_name)

    transfers, entries = Transfer.objects.count(), LedgerEntry.objects.count()
    assert (transfers, entries) == (3, 6)
    assert "rows: the copy holds every row of the dump's snapshot" in output
    assert "ledger_audit on the copy: ledger OK" in output
    assert "3 transfers (3 success, 0 failed, 0 pending), 6 entries" in output
    assert output.rstrip().endswith("restore drill OK")
    assert f"dropped {copy_name}" in output
    assert copy_name not in databases()
    assert list(tmp_path.iterdir()) == []  # and so is the dump


def test_keep_leaves_the_copy_and_the_dump(make_wallet, tmp_path, copy_name):
    make_wallet(balance=100_00)
    output = drill(tmp_path, "--into", copy_name, "--keep")
    assert copy_name in databases()
    assert [p.name for p in tmp_path.iterdir()] == [f"{copy_name}.dump"]
    assert f"kept {copy_name}" in output


def test_a_ledger_broken_at_the_source_fails_the_drill(make_wallet, tmp_path, copy_name):
    wallet = make_wallet(balance=100_00)
    # Money out of nowhere: a balance no ledger entry explains.
    Account.objects.filter(pk=wallet.pk).update(balance=wallet.balance + 1)
    out = io.StringIO()
    with pytest.raises(CommandError, match="restore drill FAILED"):
        call_command("restore_drill", "--dump-dir", str(tmp_path), "--into", copy_name, stdout=out)
    assert "ledger audit FAILED" in out.getvalue()
    assert copy_name not in databases()
