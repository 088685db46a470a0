import pytest

from api.accounts.models import Account
from api.accounts.selectors import account_treasury_get, account_wallet_get
from api.accounts.tests.factories import user_create, wallet_create


@pytest.mark.django_db
def test_the_treasury_is_created_once():
    first = account_treasury_get()
    assert (first.kind, first.user_id, first.balance) == ("treasury", None, 0)
    assert account_treasury_get().pk == first.pk
    assert Account.objects.filter(kind="treasury").count() == 1


@pytest.mark.django_db
def test_a_users_wallet():
    wallet = wallet_create()
    assert account_wallet_get(user=wallet.user) == wallet
    with pytest.raises(Account.DoesNotExist):
        account_wallet_get(user=user_create())
