import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from api.accounts.selectors import account_treasury_get
from api.transfers.management.commands import ledger_audit
from api.transfers.models import Event, LedgerEntry, Transfer
from api.transfers.tests.helpers import pending_create, settle


def audit(*args) -> str:
    out = io.StringIO()
    call_command("ledger_audit", *args, stdout=out)
    return out.getvalue()


def audit_violations(*args) -> list[str]:
    out = io.StringIO()
    with pytest.raises(CommandError, match="ledger audit FAILED"):
        call_command("ledger_audit", *args, stdout=out)
    return out.getvalue().splitlines()


def sql(statement: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def alter_table(statement: str) -> None:
    """ALTER TABLE inside the test's transaction: fire the deferred foreign-key checks first,
    PostgreSQL refuses to alter a table with pending trigger events."""
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    sql(statement)


@pytest.fixture
def ledger(make_wallet):
    """Two wallets, a treasury, one SUCCESS and one FAILED payment."""
    alice, bob = make_wallet(balance=1000), make_wallet(balance=500)
    success = settle(pending_create(sender=alice, receiver=bob, amount=300).pk)
    failed = settle(pending_create(sender=bob, receiver=alice, amount=9000).pk)
    return alice, bob, success, failed


@pytest.mark.django_db
class TestViolations:
    def test_a_consistent_ledger_passes_with_counts(self, ledger):
        assert audit() == (
            "ledger OK: 3 accounts, 4 transfers (3 success, 1 failed, 0 pending), "
            "6 entries, 10 events, 15.00 issued\n"
        )

    def test_a_balance_changed_behind_the_ledgers_back(self, ledger):
        alice, *_ = ledger
        sql("UPDATE accounts_account SET balance = balance + 100 WHERE id = %s", alice.pk)

        assert audit_violations() == [
            "balances_sum_not_zero: all balances sum to 1.00",
            f"balance_not_sum_of_entries: account {alice.pk} (wallet) balance 8.00, "
            "entries sum 7.00",
        ]

    def test_a_missing_entry(self, ledger):
        _, bob, success, _ = ledger
        alter_table(
            "ALTER TABLE transfers_ledgerentry DISABLE TRIGGER transfers_ledgerentry_immutable"
        )
        sql("DELETE FROM transfers_ledgerentry WHERE transfer_id = %s AND amount > 0", success.pk)
        alter_table(
            "ALTER TABLE transfers_ledgerentry ENABLE TRIGGER transfers_ledgerentry_immutable"
        )

        assert audit_violations() == [
            f"balance_not_sum_of_entries: account {bob.pk} (wallet) balance 8.00, entries sum 5.00",
            f"success_entries_wrong: transfer {success.uuid} (#{success.pk}) amount 3.00 has "
            "1 entries, sender side -3.00, receiver side 0.00",
        ]

    def test_entries_on_a_failed_transfer(self, ledger):
        *_, success, _ = ledger
        sql(
            "UPDATE transfers_transfer SET status = 'FAILED', failure_code = 'expired' "
            "WHERE id = %s",
            success.pk,
        )

        assert audit_violations() == [
            f"entries_on_unsettled_transfer: transfer {success.uuid} (#{success.pk}) is "
            "FAILED with 2 entries"
        ]

    def test_a_wallet_and_an_entry_below_zero(self, ledger):
        alice, *_ = ledger
        entry = LedgerEntry.objects.filter(account=alice).order_by("pk").last()
        alter_table(
            "ALTER TABLE accounts_account DROP CONSTRAINT account_wallet_balance_non_negative"
        )
        alter_table(
            "ALTER TABLE transfers_ledgerentry DISABLE TRIGGER transfers_ledgerentry_immutable"
        )
        sql("UPDATE transfers_ledgerentry SET balance_after = -1 WHERE id = %s", entry.pk)
        sql("UPDATE accounts_account SET balance = -1 WHERE id = %s", alice.pk)

        violations = audit_violations()
        assert f"wallet_below_zero: account {alice.pk} balance -0.01" in violations
        assert (
            f"wallet_entry_below_zero: entry {entry.pk} of account {alice.pk} "
            f"(transfer {entry.transfer.uuid}) balance after -0.01"
        ) in violations

    def test_a_stale_pending_transfer(self, ledger):
        alice, bob, *_ = ledger
        stale = pending_create(sender=alice, receiver=bob, amount=100)
        Transfer.objects.filter(pk=stale.pk).update(
            created_at=timezone.now() - timedelta(seconds=120)
        )

        [violation] = audit_violations()
        assert violation.startswith(f"stale_pending: transfer {stale.uuid} (#{stale.pk}) PENDING")
        assert violation.endswith("more than 60s")
        assert audit("--stale-after", "600").startswith("ledger OK")

    def test_a_negative_stale_after_is_refused(self):
        with pytest.raises(CommandError, match="--stale-after must be 0 or more"):
            audit("--stale-after", "-1")

    def test_a_gap_in_a_users_events(self, ledger):
        alice, *_ = ledger
        alice.refresh_from_db()
        Event.objects.filter(user=alice.user, seq=2).delete()

        assert audit_violations() == [
            f"event_seq_gap: account {alice.pk} last_seq {alice.last_seq} but "
            f"{alice.last_seq - 1} events numbered 1..{alice.last_seq}"
        ]

    def test_events_beyond_last_seq(self, ledger):
        _, bob, *_ = ledger
        bob.refresh_from_db()
        Event.objects.create(
            user=bob.user, seq=bob.last_seq + 1, type="balance.updated", payload={}
        )

        assert audit_violations() == [
            f"event_seq_gap: account {bob.pk} last_seq {bob.last_seq} but "
            f"{bob.last_seq + 1} events numbered 1..{bob.last_seq + 1}"
        ]

    def test_many_violations_of_one_check_are_capped(self, make_wallet, monkeypatch):
        monkeypatch.setattr("api.transfers.audit.LISTED_PER_CHECK", 2)
        wallets = [make_wallet(balance=100) for _ in range(3)]
        for wallet in wallets:
            sql("UPDATE accounts_account SET balance = 0 WHERE id = %s", wallet.pk)
        account_treasury_get()

        assert audit_violations()[1:] == [
            f"balance_not_sum_of_entries: account {wallets[0].pk} (wallet) balance 0.00, "
            "entries sum 1.00",
            f"balance_not_sum_of_entries: account {wallets[1].pk} (wallet) balance 0.00, "
            "entries sum 1.00",
            "... more rows of this check omitted after 2",
        ]


@pytest.mark.django_db(transaction=True)
def test_the_audit_reads_one_repeatable_read_snapshot(ledger, monkeypatch):
    seen = []
    run = ledger_audit.ledger_audit_run

    def spy(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SHOW transaction_isolation")
            seen.append(cursor.fetchone()[0])
            cursor.execute("SHOW transaction_read_only")
            seen.append(cursor.fetchone()[0])
        return run(**kwargs)

    monkeypatch.setattr(ledger_audit, "ledger_audit_run", spy)
    assert audit().startswith("ledger OK")
    assert seen == ["repeatable read", "on"]
