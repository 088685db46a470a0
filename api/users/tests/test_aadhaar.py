import base64
import os
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from api.users import aadhaar

VALID = "234567890124"
ASHA = uuid.UUID("00000000-0000-4000-8000-00000000a5a1")
RAVI = uuid.UUID("00000000-0000-4000-8000-0000000042a1")


def b64key(size: int = 32) -> str:
    return base64.b64encode(os.urandom(size)).decode()


@pytest.mark.parametrize(
    "raw, expected",
    [("2345 6789 0124", VALID), ("  234567890124 ", VALID), ("2345\t67890124", "2345\t67890124")],
)
def test_normalize_strips_ascii_spaces_only(raw, expected):
    assert aadhaar.normalize(raw) == expected


@pytest.mark.parametrize(
    "number, valid",
    [
        (VALID, True),
        ("23456789012", False),  # 11 digits
        ("2345678901240", False),  # 13 digits
        ("23456789012A", False),
        ("234567890125", False),  # Verhoeff check digit wrong
        ("034567890124", False),
        ("134567890124", False),
        ("\uff1234567890124", False),  # full-width 2: Verhoeff alone would accept it
        ("\u066234567890124", False),  # Arabic-Indic 2
        ("", False),
    ],
)
def test_is_valid(number, valid):
    assert aadhaar.is_valid(number) is valid


def test_generate_gives_valid_distinct_numbers():
    numbers = {aadhaar.generate() for _ in range(200)}
    assert len(numbers) == 200
    assert all(aadhaar.is_valid(number) for number in numbers)


def test_display_forms():
    assert aadhaar.spaced(VALID) == "2345 6789 0124"
    assert aadhaar.masked("0124") == "XXXX XXXX 0124"


def sealed_bytes(stored: str) -> bytes:
    assert stored.startswith("v2:")
    return base64.b64decode(stored.removeprefix("v2:"))


def unbound_encrypt(number: str) -> tuple[str, str]:
    """A value as stored before the user binding: the key id alone as associated data."""
    kid = aadhaar.key_ring().newest_key_id
    nonce = os.urandom(12)
    sealed = aadhaar.key_ring().ciphers[kid].encrypt(nonce, number.encode(), kid.encode())
    return base64.b64encode(nonce + sealed).decode(), kid


def test_encrypt_round_trip_with_fresh_nonce_and_no_digits():
    first, kid = aadhaar.encrypt(VALID, user_id=ASHA)
    second, _ = aadhaar.encrypt(VALID, user_id=ASHA)
    assert kid == aadhaar.key_ring().newest_key_id
    assert first != second
    assert len(sealed_bytes(first)) == 12 + 12 + 16  # nonce, 12 bytes of text, tag
    assert VALID not in first
    assert (
        aadhaar.decrypt(first, kid, user_id=ASHA)
        == aadhaar.decrypt(second, kid, user_id=ASHA)
        == VALID
    )


def test_key_id_is_bound_to_the_ciphertext():
    key = b64key()
    with override_settings(AADHAAR_KEYS=f"a:{key},b:{key}"):
        ciphertext, kid = aadhaar.encrypt(VALID, user_id=ASHA)
        assert kid == "a"
        with pytest.raises(aadhaar.UnreadableCiphertext):
            aadhaar.decrypt(ciphertext, "b", user_id=ASHA)  # same key bytes, other key id


def test_user_id_is_bound_to_the_ciphertext():
    ciphertext, kid = aadhaar.encrypt(VALID, user_id=ASHA)

    with pytest.raises(aadhaar.UnreadableCiphertext, match="copied from another user's row"):
        aadhaar.decrypt(ciphertext, kid, user_id=RAVI)


def test_a_value_written_before_the_user_binding_is_read_only_by_the_rewrite():
    ciphertext, kid = unbound_encrypt(VALID)

    with pytest.raises(aadhaar.UnreadableCiphertext, match="run aadhaar_rotate_keys"):
        aadhaar.decrypt(ciphertext, kid, user_id=ASHA)
    # Nor can a bound value be passed off as an unbound one by dropping its marker.
    bound, _ = aadhaar.encrypt(VALID, user_id=ASHA)
    with pytest.raises(aadhaar.UnreadableCiphertext):
        aadhaar.decrypt_unbound(bound.removeprefix("v2:"), kid)
    assert aadhaar.decrypt_unbound(ciphertext, kid) == VALID


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage"])
def test_tampered_ciphertext_is_refused(damage):
    ciphertext, kid = aadhaar.encrypt(VALID, user_id=ASHA)
    raw = bytearray(sealed_bytes(ciphertext))
    raw[-1] ^= 1
    stored = {
        "flip": "v2:" + base64.b64encode(raw).decode(),
        "truncate": "v2:" + base64.b64encode(raw[:8]).decode(),
        "garbage": "v2:not base64!",
    }[damage]
    with pytest.raises(aadhaar.UnreadableCiphertext):
        aadhaar.decrypt(stored, kid, user_id=ASHA)


def test_decrypt_under_a_removed_key_names_the_key_only():
    ciphertext, kid = aadhaar.encrypt(VALID, user_id=ASHA)
    with (
        override_settings(AADHAAR_KEYS=f"other:{b64key()}"),
        pytest.raises(ImproperlyConfigured, match=f"'{kid}'"),
    ):
        aadhaar.decrypt(ciphertext, kid, user_id=ASHA)


def test_blind_index_is_keyed_and_deterministic():
    index = aadhaar.blind_index(VALID)
    assert index == aadhaar.blind_index(VALID)
    assert len(index) == 64 and index != aadhaar.blind_index("234567890131")
    with override_settings(AADHAAR_INDEX_KEY=b64key()):
        assert aadhaar.blind_index(VALID) != index


def test_key_ring_is_parsed_once_and_again_after_an_override():
    assert aadhaar.key_ring() is aadhaar.key_ring()
    with override_settings(AADHAAR_KEYS=f"new:{b64key()},old:{b64key()}"):
        ring = aadhaar.key_ring()
        assert ring.newest_key_id == "new" and set(ring.ciphers) == {"new", "old"}
    assert aadhaar.key_ring().newest_key_id != "new"


@pytest.mark.parametrize(
    "keys, index_key, message",
    [
        ("", None, "must look like kid:base64key"),
        ("no-colon", None, "must look like kid:base64key"),
        (":{key}", None, "must look like kid:base64key"),
        ("a b:{key}", None, "must look like kid:base64key"),
        ("k1:{key},k1:{key}", None, "names the key id 'k1' twice"),
        ("k1:not base64!", None, "'k1' is not valid base64"),
        ("k1:{short}", None, "'k1' must be 32 bytes"),
        ("k1:{key}", "", "AADHAAR_INDEX_KEY must be at least 32 bytes"),
        ("k1:{key}", "{short}", "AADHAAR_INDEX_KEY must be at least 32 bytes"),
    ],
)
def test_bad_configuration_is_refused_without_echoing_keys(keys, index_key, message):
    key, short = b64key(), b64key(16)
    settings_keys = keys.format(key=key, short=short)
    settings_index = b64key() if index_key is None else index_key.format(short=short)
    with (
        override_settings(AADHAAR_KEYS=settings_keys, AADHAAR_INDEX_KEY=settings_index),
        pytest.raises(ImproperlyConfigured, match=message) as error,
    ):
        aadhaar.key_ring()
    assert key not in str(error.value) and short not in str(error.value)
