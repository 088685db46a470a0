import pytest
from django.db import IntegrityError, connection, transaction

from api.accounts.models import Account
from api.accounts.selectors import account_treasury_get
from api.accounts.services import account_create_wallet
from api.accounts.tests.factories import user_create

pytestmark = pytest.mark.django_db


def test_a_new_wallet_is_empty():
    user = user_create()
    wallet = account_create_wallet(user=user)

    wallet.refresh_from_db()
    assert (wallet.kind, wallet.user_id, wallet.balance, wallet.last_seq) == (
        "wallet",
        user.pk,
        0,
        0,
    )


def test_a_user_has_one_wallet():
    user = user_create()
    account_create_wallet(user=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        account_create_wallet(user=user)


def test_the_database_refuses_a_negative_wallet_balance():
    wallet = account_create_wallet(user=user_create())
    with (
        pytest.raises(IntegrityError, match="account_wallet_balance_non_negative"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE accounts_account SET balance = -1 WHERE id = %s", [wallet.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=wallet.pk).update(balance=-1)


def test_the_treasury_may_be_negative():
    treasury = account_treasury_get()
    Account.objects.filter(pk=treasury.pk).update(balance=-(10**12))
    treasury.refresh_from_db()
    assert treasury.balance == -(10**12)


def test_a_wallet_needs_a_user_and_the_treasury_has_none():
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(kind="wallet")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(kind="treasury", user=user_create())


def test_there_is_one_treasury():
    account_treasury_get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(kind="treasury")
