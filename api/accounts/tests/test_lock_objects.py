import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from api.accounts.lock_objects import accounts_lock
from api.accounts.models import Account
from api.accounts.selectors import account_treasury_get
from api.accounts.tests.factories import wallet_create

pytestmark = pytest.mark.django_db


def test_locks_in_primary_key_order_and_returns_by_id():
    wallets = [wallet_create() for _ in range(3)]
    treasury = account_treasury_get()
    wanted = [wallets[2].pk, treasury.pk, wallets[0].pk]

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        locked = accounts_lock(account_ids=wanted)

    assert sorted(locked) == sorted(wanted)
    assert locked[treasury.pk].user is None
    assert locked[wallets[2].pk].user == wallets[2].user
    [query] = queries.captured_queries
    assert query["sql"].endswith(
        'ORDER BY "accounts_account"."id" ASC FOR NO KEY UPDATE OF "accounts_account"'
    )


def test_reads_the_balances_after_the_lock():
    wallet = wallet_create()
    Account.objects.filter(pk=wallet.pk).update(balance=700)

    with transaction.atomic():
        assert accounts_lock(account_ids=[wallet.pk])[wallet.pk].balance == 700


def test_an_unknown_account_is_an_error():
    wallet = wallet_create()
    with pytest.raises(Account.DoesNotExist), transaction.atomic():
        accounts_lock(account_ids=[wallet.pk, wallet.pk + 1000])
