"""Reads for users."""

from api.core.exceptions import ApplicationError
from api.users import aadhaar
from api.users.models import User


def user_get_by_email(*, email: str) -> User | None:
    """The user with this email in any letter case, or None."""
    return User.objects.filter(email=email.strip().lower()).first()


def user_aadhaar_stale_count() -> int:
    """How many users' Aadhaar numbers are not yet encrypted under the newest key."""
    return User.objects.exclude(aadhaar_key_id=aadhaar.key_ring().newest_key_id).count()


def user_is_active(*, user_id: object) -> bool:
    """Whether the user exists and is active (login, tokens and sockets are refused after
    deactivation)."""
    return User.objects.filter(pk=user_id, is_active=True).exists()


def user_payee_get(*, payer: User, email: str) -> User:
    """The active user other than `payer` whose email is `email` in any letter case: the
    person a payment to that address would reach, so the payer can check the name first.
    One query (none for the payer's own address).

    Raises ApplicationError `self_transfer` (400) for the payer's own email, and
    `receiver_not_found` (404) alike for an unknown and an inactive user, as a payment would.
    """
    email = email.strip().lower()
    if email == payer.email:
        raise ApplicationError("self_transfer", "You cannot send money to yourself.")
    payee = User.objects.filter(email=email, is_active=True).only("full_name", "email").first()
    if payee is None:
        raise ApplicationError("receiver_not_found", "No active user has this email.", status=404)
    return payee
