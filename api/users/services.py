"""Writes for users: registration, login and refresh tokens, the Aadhaar reveal and key rotation,
staff accounts and deactivation.

Nothing here opens an outermost transaction: each function says which transaction it needs, and
entry points (APIs, commands) open it. Client mistakes raise ApplicationError.
"""

import logging
import re
from functools import partial
from typing import NamedTuple, TypedDict
from uuid import UUID

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from api.accounts.services import account_create_wallet
from api.core.exceptions import ApplicationError
from api.core.transactions import on_commit_robust
from api.transfers.services import transfers_settle_pending_of_user, welcome_credit_grant
from api.users import aadhaar as aadhaar_numbers
from api.users.models import AadhaarRevealAudit, User, email_normalize
from api.users.selectors import users_aadhaar_stale
from api.users.signals import users_deactivated

logger = logging.getLogger(__name__)

# An Indian mobile number: +91 and ten digits starting 6-9, or the ten digits alone.
PHONE_PATTERN = re.compile(r"(?:\+91)?([6-9][0-9]{9})")
EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length
FULL_NAME_MAX_LENGTH = User._meta.get_field("full_name").max_length


class TokenPair(TypedDict):
    access: str
    refresh: str


class Login(TypedDict):
    access: str
    refresh: str
    user: User


class Deactivation(NamedTuple):
    tokens_revoked: int
    transfers_failed: int


class AadhaarRotationBatch(NamedTuple):
    rewritten: int
    unreadable: list[UUID]  # rows left as they were: their ciphertext failed authentication
    last_pk: UUID | None  # where the next batch starts; None when no row was left


def _invalid_fields(fields: dict[str, list[str]]) -> ApplicationError:
    return ApplicationError("validation_error", "Some fields are invalid.", fields=fields)


def _email_is_valid(email: str) -> bool:
    try:
        validate_email(email)
    except ValidationError:
        return False
    return len(email) <= EMAIL_MAX_LENGTH


def _user_build(
    *, email: str, password: str, full_name: str, phone: str | None, aadhaar: str, is_staff: bool
) -> User:
    """An unsaved user from raw input, or a 400 naming every invalid field at once."""
    errors: dict[str, list[str]] = {}
    email = email_normalize(email)
    if not _email_is_valid(email):
        errors["email"] = ["Enter a valid email address."]
    full_name = full_name.strip()
    if not full_name or len(full_name) > FULL_NAME_MAX_LENGTH:
        errors["full_name"] = [f"Enter your name (at most {FULL_NAME_MAX_LENGTH} characters)."]
    mobile = PHONE_PATTERN.fullmatch(phone) if phone else None
    if phone and mobile is None:
        errors["phone"] = [
            "Enter an Indian mobile number: +91 and 10 digits starting with 6-9, or the 10 digits."
        ]
    number = aadhaar_numbers.normalize(aadhaar)
    if not aadhaar_numbers.is_valid(number):
        errors["aadhaar"] = ["Enter a valid Aadhaar number."]

    user = User(
        email=email,
        full_name=full_name,
        phone=f"+91{mobile.group(1)}" if mobile else "",
        is_staff=is_staff,
    )
    try:
        # The unsaved user lets the similarity validator compare against email and name.
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise _invalid_fields(errors)

    user.set_password(password)
    # The primary key is a UUID made in Python, so the ciphertext can be bound to it now.
    user.aadhaar_ciphertext, user.aadhaar_key_id = aadhaar_numbers.encrypt(number, user_id=user.pk)
    user.aadhaar_index = aadhaar_numbers.blind_index(number)
    user.aadhaar_last4 = number[-4:]
    return user


def _taken_fields(user: User) -> dict[str, list[str]]:
    taken: dict[str, list[str]] = {}
    if User.objects.filter(email=user.email).exists():
        taken["email"] = ["A user with this email already exists."]
    if User.objects.filter(aadhaar_index=user.aadhaar_index).exists():
        taken["aadhaar"] = ["This Aadhaar number is already registered."]
    return taken


def _user_create(**fields) -> User:
    """Validates, inserts and gives the user a wallet. A taken email or Aadhaar number is a 400
    naming the field, also when a concurrent registration committed it first: the unique
    constraints decide, and the savepoint keeps the caller's transaction usable."""
    user = _user_build(**fields)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:
        taken = _taken_fields(user)
        if not taken:
            raise
        raise _invalid_fields(taken) from None
    account_create_wallet(user=user)
    return user


def user_register(
    *, email: str, password: str, full_name: str, phone: str | None, aadhaar: str
) -> User:
    """Creates a customer: the user, their wallet and the settled welcome credit.

    Runs in the caller's transaction, so all three commit together or not at all. The welcome
    credit locks the treasury, so it comes last and that lock is held only until the commit.
    Email is matched case-insensitively and stored lower-cased; the phone is stored as E.164
    (empty when absent); the Aadhaar number is stored encrypted, unique by its blind index.
    Raises 400 `validation_error` with every invalid, weak or already registered field in
    `fields` (`email`, `password`, `full_name`, `phone`, `aadhaar`).
    """
    user = _user_create(
        email=email,
        password=password,
        full_name=full_name,
        phone=phone,
        aadhaar=aadhaar,
        is_staff=False,
    )
    welcome_credit_grant(user=user)
    return user


def user_staff_create(*, email: str, password: str, full_name: str, aadhaar: str) -> User:
    """Creates a staff user with a wallet and no welcome credit (that is for customers).

    Same validation and errors as `user_register`; runs in the caller's transaction.
    """
    return _user_create(
        email=email,
        password=password,
        full_name=full_name,
        phone=None,
        aadhaar=aadhaar,
        is_staff=True,
    )


def user_staff_grant(*, user: User) -> User:
    """Makes an existing user staff; granting it twice changes nothing."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def _token_pair(user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def user_login(*, email: str, password: str) -> Login:
    """A new token pair and the user, for the credentials of an active user.

    A wrong email, a wrong password and an inactive user raise the same 401
    `invalid_credentials`; Django's ModelBackend hashes the password in all three cases, so
    timing does not tell them apart either. Records the refresh token as outstanding: run in
    the caller's transaction.
    """
    user = authenticate(email=email, password=password)
    if user is None:
        raise ApplicationError(
            "invalid_credentials", "The email or password is incorrect.", status=401
        )
    return {**_token_pair(user), "user": user}


def _token_not_valid() -> ApplicationError:
    return ApplicationError("token_not_valid", "The token is invalid or expired.", status=401)


def _refresh_token_take(raw: str) -> tuple[RefreshToken, OutstandingToken]:
    """The refresh token and its outstanding row, locked, provided it is still usable.

    The row lock makes using a token a compare-and-set: of two requests presenting the same
    token at once, the second waits and then finds it blacklisted.
    """
    try:
        token = RefreshToken(raw)
    except TokenError:
        raise _token_not_valid() from None
    outstanding = (
        OutstandingToken.objects.select_for_update()
        .filter(jti=token[jwt_settings.JTI_CLAIM])
        .first()
    )
    if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
        raise _token_not_valid()
    return token, outstanding


def token_refresh(*, refresh: str) -> TokenPair:
    """Rotates a refresh token: it is blacklisted and a new pair is issued for its user.

    Locks the token's OutstandingToken row until the caller's transaction commits, so a token
    rotates once even when presented twice at once. Raises 401 `token_not_valid` for a
    malformed, expired, already used or logged-out token, and when the user is inactive.
    """
    token, outstanding = _refresh_token_take(refresh)
    user = User.objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM), is_active=True).first()
    if user is None:
        raise _token_not_valid()
    BlacklistedToken.objects.create(token=outstanding)
    return _token_pair(user)


def token_revoke(*, user: User, refresh: str) -> None:
    """Logs out one session by blacklisting its refresh token.

    Raises 401 `token_not_valid` for a malformed, expired or already dead token, and 403
    `token_not_owned` for another user's token, which stays valid: nobody ends a session that
    is not theirs. Locks like `token_refresh`; run in the caller's transaction.
    """
    token, outstanding = _refresh_token_take(refresh)
    if token.get(jwt_settings.USER_ID_CLAIM) != str(user.pk):
        raise ApplicationError(
            "token_not_owned", "That refresh token belongs to another user.", status=403
        )
    BlacklistedToken.objects.create(token=outstanding)


def _reveal_audit(*, user: User, succeeded: bool, ip_address: str | None, request_id: str) -> None:
    AadhaarRevealAudit.objects.create(
        user=user, succeeded=succeeded, ip_address=ip_address, request_id=request_id
    )


def _aadhaar_unreadable(user: User, exc: aadhaar_numbers.UnreadableCiphertext) -> ApplicationError:
    # The user id and the reason go to the operator; the number is not in either.
    logger.error("Aadhaar number of user %s cannot be read: %s", user.pk, exc)
    return ApplicationError(
        "aadhaar_unreadable",
        "Your stored Aadhaar number cannot be read back. Contact support and quote the request id.",
        status=409,
    )


def user_aadhaar_reveal(
    *, user: User, password: str, ip_address: str | None, request_id: str
) -> str:
    """The user's Aadhaar number in printed form ("2345 6789 0124") once the password checks.

    Every call writes an AadhaarRevealAudit row, succeeded only when the number was shown,
    which must outlive an error: run this in autocommit, not inside a transaction that the
    error would roll back.
    Raises 403 `wrong_password`; 409 `aadhaar_unreadable` when the stored ciphertext does not
    decrypt for this user (altered, copied from another user's row, or written before the user
    binding and not yet rewritten by aadhaar_rotate_keys).
    """
    password_ok = user.check_password(password)
    number = unreadable = None
    if password_ok:
        try:
            number = aadhaar_numbers.decrypt(
                user.aadhaar_ciphertext, user.aadhaar_key_id, user_id=user.pk
            )
        except aadhaar_numbers.UnreadableCiphertext as exc:
            unreadable = exc
    _reveal_audit(
        user=user, succeeded=number is not None, ip_address=ip_address, request_id=request_id
    )
    if not password_ok:
        raise ApplicationError("wrong_password", "The password is incorrect.", status=403)
    if unreadable is not None:
        raise _aadhaar_unreadable(user, unreadable)
    return aadhaar_numbers.spaced(number)


def user_aadhaar_reveal_refused(*, user: User, ip_address: str | None, request_id: str) -> None:
    """Audits a reveal attempt turned away before the password was looked at (throttled)."""
    _reveal_audit(user=user, succeeded=False, ip_address=ip_address, request_id=request_id)


def _aadhaar_number_of_row(user: User) -> str:
    """The row's number from either stored format, or UnreadableCiphertext.

    An unbound value proves nothing about its row, so its number must match the row's blind
    index: a value copied from another row before the binding is not adopted by this one.
    """
    if aadhaar_numbers.is_bound(user.aadhaar_ciphertext):
        return aadhaar_numbers.decrypt(
            user.aadhaar_ciphertext, user.aadhaar_key_id, user_id=user.pk
        )
    number = aadhaar_numbers.decrypt_unbound(user.aadhaar_ciphertext, user.aadhaar_key_id)
    if aadhaar_numbers.blind_index(number) != user.aadhaar_index:
        raise aadhaar_numbers.UnreadableCiphertext(
            "The Aadhaar ciphertext does not match the row's blind index: it was copied from "
            "another user's row."
        )
    return number


def user_aadhaar_rotate_batch(*, batch_size: int, after_pk: UUID | None) -> AadhaarRotationBatch:
    """Re-encrypts, under the newest key and bound to their user, up to `batch_size` Aadhaar
    numbers that are not yet both, taking rows in primary-key order after `after_pk`.

    Locks those user rows until the caller's transaction commits: give each batch its own
    short transaction, and start the next after the returned `last_pk`. Rows already current
    are never selected, so an interrupted rotation resumes where it stopped. A row whose
    ciphertext fails authentication is left as it is and listed in `unreadable`. Raises
    ImproperlyConfigured when a row's key has left AADHAAR_KEYS.
    """
    stale = users_aadhaar_stale().select_for_update().order_by("pk")
    if after_pk is not None:
        stale = stale.filter(pk__gt=after_pk)
    users = list(stale[:batch_size])
    rewritten, unreadable = [], []
    for user in users:
        try:
            number = _aadhaar_number_of_row(user)
        except aadhaar_numbers.UnreadableCiphertext:
            unreadable.append(user.pk)
            continue
        user.aadhaar_ciphertext, user.aadhaar_key_id = aadhaar_numbers.encrypt(
            number, user_id=user.pk
        )
        rewritten.append(user)
    User.objects.bulk_update(rewritten, ["aadhaar_ciphertext", "aadhaar_key_id"])
    return AadhaarRotationBatch(
        rewritten=len(rewritten),
        unreadable=unreadable,
        last_pk=users[-1].pk if users else None,
    )


def user_deactivate(*, user: User) -> Deactivation:
    """Deactivates a user: login, refresh and their access tokens answer 401 from the commit
    on, every outstanding refresh token is blacklisted, and their PENDING transfers end FAILED.

    Runs in the caller's transaction, so the user turns inactive in the same commit that fails
    their transfers. After that commit, the events of those transfers are announced, then the
    deactivation (`users_deactivated`, on which realtime closes the user's open sockets with
    4401). Deactivating an inactive user again is harmless.
    """
    user.is_active = False
    user.save(update_fields=["is_active"])
    live = OutstandingToken.objects.filter(
        user=user, blacklistedtoken__isnull=True, expires_at__gt=timezone.now()
    )
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    failed = transfers_settle_pending_of_user(user=user)
    # Registered after settlement's own on_commit, so the FAILED events are announced first.
    on_commit_robust(partial(users_deactivated.send, sender=User, user_ids=[user.pk]))
    return Deactivation(tokens_revoked=len(revoked), transfers_failed=failed)
