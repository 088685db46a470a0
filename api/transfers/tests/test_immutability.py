"""Ledger entries are written once: the model refuses changes, and on PostgreSQL so does a
trigger, whatever the SQL."""

import pytest
from django.db import IntegrityError, connection, transaction

from api.transfers.models import LedgerEntry
from api.transfers.tests.helpers import pending_create, settle

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(make_wallet):
    alice, bob = make_wallet(balance=1000), make_wallet()
    transfer = settle(pending_create(sender=alice, receiver=bob, amount=100).pk)
    return LedgerEntry.objects.filter(transfer=transfer).first()


def test_the_model_refuses_save_and_delete(entry):
    entry.amount = 1
    with pytest.raises(ValueError, match="immutable"):
        entry.save()
    with pytest.raises(ValueError, match="immutable"):
        entry.delete()


def test_querysets_refuse_update_and_delete(entry):
    with pytest.raises(ValueError, match="immutable"):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=1)
    with pytest.raises(ValueError, match="immutable"):
        LedgerEntry.objects.filter(pk=entry.pk).delete()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE transfers_ledgerentry SET amount = amount + 1 WHERE id = %s",
        "UPDATE transfers_ledgerentry SET balance_after = 0 WHERE id = %s",
        "DELETE FROM transfers_ledgerentry WHERE id = %s",
    ],
)
def test_the_database_refuses_raw_updates_and_deletes(entry, sql):
    with (
        pytest.raises(IntegrityError, match="ledger entries are immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [entry.pk])

    fresh = LedgerEntry.objects.get(pk=entry.pk)
    assert (fresh.amount, fresh.balance_after) == (entry.amount, entry.balance_after)
