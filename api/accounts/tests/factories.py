"""Test data made directly with the ORM, independent of the users app's services."""

import itertools

from django.contrib.auth import get_user_model

from api.accounts.models import Account
from api.accounts.services import account_create_wallet

_numbers = itertools.count(1)


def user_create(*, full_name: str = "", is_active: bool = True):
    number = next(_numbers)
    return get_user_model().objects.create(
        email=f"user{number}@example.in",
        full_name=full_name or f"User {number}",
        is_active=is_active,
        aadhaar_ciphertext="x",
        aadhaar_key_id="k",
        aadhaar_index=f"index-{number}",
        aadhaar_last4="1234",
    )


def wallet_create(*, full_name: str = "", is_active: bool = True) -> Account:
    """A new user's wallet, with the user attached."""
    return account_create_wallet(user=user_create(full_name=full_name, is_active=is_active))
