import pytest

from api.accounts.tests.factories import wallet_create
from api.transfers.tests.helpers import deposit


@pytest.fixture
def make_wallet():
    """make_wallet(balance=0, is_active=True, full_name="") -> a user's wallet, funded from
    the treasury with `balance` paise."""

    def make(*, balance: int = 0, is_active: bool = True, full_name: str = ""):
        wallet = wallet_create(full_name=full_name)
        if balance:
            deposit(account=wallet, amount=balance)
        if not is_active:
            wallet.user.is_active = False
            wallet.user.save(update_fields=["is_active"])
        wallet.refresh_from_db()
        return wallet

    return make
