from django.contrib.auth.base_user import AbstractBaseUser

from api.accounts.models import Account


def account_treasury_get() -> Account:
    """The treasury, the one system account; created on first use.

    Race-safe without locks: concurrent first uses insert with ON CONFLICT DO NOTHING against
    the partial unique constraint `account_one_treasury`, so the losers wait for the winner's
    commit and then read its row.
    """
    treasury = Account.objects.filter(kind=Account.Kind.TREASURY).first()
    if treasury is None:
        Account.objects.bulk_create([Account(kind=Account.Kind.TREASURY)], ignore_conflicts=True)
        treasury = Account.objects.get(kind=Account.Kind.TREASURY)
    return treasury


def account_wallet_get(*, user: AbstractBaseUser) -> Account:
    """The user's wallet, with the user attached. Raises Account.DoesNotExist without one."""
    return Account.objects.select_related("user").get(user=user)
