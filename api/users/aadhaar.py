"""Aadhaar numbers: validation, encryption at rest, the blind index and the display forms.

A number is stored as AES-256-GCM ciphertext under a key id from `AADHAAR_KEYS` (newest first),
with the key id and the user's id bound as associated data, so a ciphertext can be passed off
neither under another key nor on another user's row. Stored values start with `v2:`; values
without it were written before the user binding (key id only) and are read only by
`aadhaar_rotate_keys`, which rewrites them. Uniqueness uses an HMAC-SHA256 blind index keyed by
`AADHAAR_INDEX_KEY`, which never changes with key rotation. Nothing in this module logs, and no
error message carries a number.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from stdnum import verhoeff

# [0-9] rather than \d: other scripts' digits (Devanagari, full-width, ...) are not Aadhaar digits.
PATTERN = re.compile(r"[2-9][0-9]{11}")
NONCE_BYTES = 12
KEY_BYTES = 32
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,32}")
# Marks ciphertexts bound to their user; base64 never contains ":".
BOUND_PREFIX = "v2:"


class UnreadableCiphertext(Exception):
    """A stored ciphertext that does not decrypt for this row. The message names no number."""


def normalize(raw: str) -> str:
    """The number without ASCII spaces; any other character is left for `is_valid` to refuse."""
    return raw.replace(" ", "")


def is_valid(number: str) -> bool:
    """Twelve ASCII digits, the first 2-9, the last a Verhoeff check digit."""
    return PATTERN.fullmatch(number) is not None and verhoeff.is_valid(number)


def generate() -> str:
    """A random valid number, for staff accounts and demo data."""
    body = secrets.choice("23456789") + "".join(secrets.choice("0123456789") for _ in range(10))
    return body + verhoeff.calc_check_digit(body)


def masked(last4: str) -> str:
    return f"XXXX XXXX {last4}"


def spaced(number: str) -> str:
    """The printed form: "2345 6789 0124"."""
    return " ".join(number[i : i + 4] for i in range(0, 12, 4))


@dataclass(frozen=True)
class KeyRing:
    ciphers: dict[str, AESGCM]
    newest_key_id: str
    index_key: bytes


def _decode_key(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{what} is not valid base64.") from exc


def _parse_key_ring(keys: str, index_key: str) -> KeyRing:
    """Parses `kid:base64key,kid2:base64key` (newest first). Messages name key ids only."""
    ciphers: dict[str, AESGCM] = {}
    for item in (keys or "").split(","):
        kid, sep, encoded = item.strip().partition(":")
        if not sep or not KEY_ID_PATTERN.fullmatch(kid):
            raise ImproperlyConfigured(
                "AADHAAR_KEYS must look like kid:base64key,kid2:base64key; key ids are 1-32 "
                "characters of A-Z a-z 0-9 . _ -."
            )
        if kid in ciphers:
            raise ImproperlyConfigured(f"AADHAAR_KEYS names the key id {kid!r} twice.")
        key = _decode_key(encoded, f"The AADHAAR_KEYS key {kid!r}")
        if len(key) != KEY_BYTES:
            raise ImproperlyConfigured(f"The AADHAAR_KEYS key {kid!r} must be 32 bytes.")
        ciphers[kid] = AESGCM(key)
    index = _decode_key(index_key or "", "AADHAAR_INDEX_KEY")
    if len(index) < KEY_BYTES:
        raise ImproperlyConfigured("AADHAAR_INDEX_KEY must be at least 32 bytes.")
    return KeyRing(ciphers=ciphers, newest_key_id=next(iter(ciphers)), index_key=index)


@functools.cache
def key_ring() -> KeyRing:
    """The configured keys, parsed once per process (and again when tests override them)."""
    return _parse_key_ring(settings.AADHAAR_KEYS, settings.AADHAAR_INDEX_KEY)


@receiver(setting_changed)
def _forget_key_ring(*, setting: str, **kwargs) -> None:
    if setting in ("AADHAAR_KEYS", "AADHAAR_INDEX_KEY"):
        key_ring.cache_clear()


def _associated_data(key_id: str, user_id: UUID) -> bytes:
    # Key ids never contain "|", so this never equals the key id alone (the unbound format).
    return f"{key_id}|{user_id}".encode()


def _cipher(key_id: str) -> AESGCM:
    cipher = key_ring().ciphers.get(key_id)
    if cipher is None:
        raise ImproperlyConfigured(
            f"AADHAAR_KEYS no longer holds the key {key_id!r}; put it back and run "
            "aadhaar_rotate_keys before removing it."
        )
    return cipher


def _open(sealed: str, key_id: str, associated_data: bytes) -> str:
    cipher = _cipher(key_id)
    try:
        raw = base64.b64decode(sealed, validate=True)
        plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data)
    except (InvalidTag, binascii.Error, ValueError):  # ValueError: too short for a nonce
        raise UnreadableCiphertext(
            "The Aadhaar ciphertext failed authentication: it was altered, or copied from "
            "another user's row."
        ) from None
    return plain.decode()


def encrypt(number: str, *, user_id: UUID) -> tuple[str, str]:
    """(stored value, key id): `v2:` and base64 of nonce + ciphertext + tag under the newest
    key, bound to that key id and `user_id`."""
    ring = key_ring()
    kid = ring.newest_key_id
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.ciphers[kid].encrypt(nonce, number.encode(), _associated_data(kid, user_id))
    return BOUND_PREFIX + base64.b64encode(nonce + sealed).decode(), kid


def is_bound(ciphertext: str) -> bool:
    return ciphertext.startswith(BOUND_PREFIX)


def decrypt(ciphertext: str, key_id: str, *, user_id: UUID) -> str:
    """The number stored on the row of `user_id`.

    Raises UnreadableCiphertext when the value was altered, belongs to another user's row, or
    predates the user binding (until aadhaar_rotate_keys rewrites it); ImproperlyConfigured
    when its key has left AADHAAR_KEYS.
    """
    if not is_bound(ciphertext):
        raise UnreadableCiphertext(
            "The Aadhaar ciphertext predates the user binding; run aadhaar_rotate_keys."
        )
    return _open(ciphertext.removeprefix(BOUND_PREFIX), key_id, _associated_data(key_id, user_id))


def decrypt_unbound(ciphertext: str, key_id: str) -> str:
    """The number in a value written before the user binding (key id only as associated data).

    Only for rewriting such values: nothing ties them to a row, so the caller must check the
    number against the row's blind index. Raises like `decrypt`.
    """
    return _open(ciphertext, key_id, key_id.encode())


def blind_index(number: str) -> str:
    """HMAC-SHA256 of the number as hex: equal numbers give equal indexes, nothing else."""
    return hmac.new(key_ring().index_key, number.encode(), hashlib.sha256).hexdigest()
