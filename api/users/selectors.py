"""Reads for users."""

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
