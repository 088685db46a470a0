from django.contrib.auth.base_user import AbstractBaseUser

from api.accounts.models import Account


def account_create_wallet(*, user: AbstractBaseUser) -> Account:
    """Creates the user's wallet with a zero balance.

    Runs in the caller's transaction (registration). A user has at most one wallet: a second
    call raises IntegrityError from the one-to-one constraint.
    """
    return Account.objects.create(kind=Account.Kind.WALLET, user=user)
