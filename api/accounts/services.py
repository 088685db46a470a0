from django.contrib.auth.base_user import AbstractBaseUser

from api.accounts.models import Account


def account_create_wallet(*, user: AbstractBaseUser) -> Account:
    """Creates the user's wallet with a zero balance.

    Runs in the caller's transaction (registration). A user has at most one wallet: a second
    call raises IntegrityError from the one-to-one constraint.
    """
    return Account.objects.create(kind=Account.Kind.WALLET, user=user)


def account_create_wallets(*, users: list[AbstractBaseUser]) -> list[Account]:
    """Creates a zero-balance wallet for each of `users` (saved, without wallets) in one bulk
    insert, returned in the same order with their users attached. Runs in the caller's
    transaction; a user who already has a wallet raises IntegrityError."""
    return Account.objects.bulk_create(
        [Account(kind=Account.Kind.WALLET, user=user) for user in users]
    )
