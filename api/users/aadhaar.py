"""Aadhaar numbers: validation, encryption at rest, the blind index and the display forms.

A number is stored as AES-256-GCM ciphertext under a key id from `AADHAAR_KEYS` (newest first),
with the key id bound as associated data so a ciphertext cannot be passed off under another
key. Uniqueness uses an HMAC-SHA256 blind index keyed by `AADHAAR_INDEX_KEY`, which never
changes with key rotation. Nothing in this module logs, and no error message carries a number.
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


def encrypt(number: str) -> tuple[str, str]:
    """(base64 of nonce + ciphertext + tag, key id) under the newest key."""
    ring = key_ring()
    kid = ring.newest_key_id
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.ciphers[kid].encrypt(nonce, number.encode(), kid.encode())
    return base64.b64encode(nonce + sealed).decode(), kid


def decrypt(ciphertext: str, key_id: str) -> str:
    """The number, or ImproperlyConfigured when its key has left AADHAAR_KEYS.

    A tampered ciphertext raises cryptography's InvalidTag, which is not caught here: it means
    the row was altered, and the caller must not carry on as if nothing happened.
    """
    cipher = key_ring().ciphers.get(key_id)
    if cipher is None:
        raise ImproperlyConfigured(
            f"AADHAAR_KEYS no longer holds the key {key_id!r}; put it back and run "
            "aadhaar_rotate_keys before removing it."
        )
    raw = base64.b64decode(ciphertext)
    return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], key_id.encode()).decode()


def blind_index(number: str) -> str:
    """HMAC-SHA256 of the number as hex: equal numbers give equal indexes, nothing else."""
    return hmac.new(key_ring().index_key, number.encode(), hashlib.sha256).hexdigest()
