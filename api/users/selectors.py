"""Reads for users."""

from django.db.models import QuerySet

from api.users import aadhaar
from api.users.models import User, email_normalize


def user_get_by_email(*, email: str) -> User | None:
    """The user with this email in any letter case, or None."""
    return User.objects.filter(email=email_normalize(email)).first()


def users_aadhaar_stale() -> QuerySet[User]:
    """Users whose Aadhaar number is not yet encrypted under the newest key and bound to them."""
    return User.objects.exclude(
        aadhaar_key_id=aadhaar.key_ring().newest_key_id,
        aadhaar_ciphertext__startswith=aadhaar.BOUND_PREFIX,
    )


def user_aadhaar_stale_count() -> int:
    """How many users' Aadhaar numbers `aadhaar_rotate_keys` has left to rewrite."""
    return users_aadhaar_stale().count()


def user_is_active(*, user_id: object) -> bool:
    """Whether the user exists and is active (login, tokens and sockets are refused after
    deactivation)."""
    return User.objects.filter(pk=user_id, is_active=True).exists()
