"""Idempotency keys and request fingerprints."""

import hashlib
import json
import re
import uuid

from api.core.exceptions import ApplicationError


def transfer_fingerprint(*, receiver_email: str, amount: int, note: str) -> str:
    """What a replay must repeat to get the same transfer back: lower-cased receiver email,
    amount in paise and note, hashed to fit the column (SHA-256 hex)."""
    canonical = json.dumps([receiver_email.lower(), amount, note], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def welcome_idempotency_key(*, user_id: uuid.UUID) -> str:
    """The treasury-scoped key of a user's welcome credit. The space cannot occur in a client's
    key (0x21-0x7E only), so no deposit key can ever collide with it."""
    return f"welcome {user_id}"


# 8-255 visible ASCII characters (0x21-0x7E).
_KEY_PATTERN = re.compile(r"[\x21-\x7e]{8,255}", re.ASCII)
# The same for the OpenAPI schema, which sees the header as sent: such a key, or one in
# double quotes (a value both starting and ending with a quote is read as quoted).
KEY_SCHEMA_PATTERN = r'^(?:[!#-~][!-~]{7,254}|[!-~]{7,254}[!#-~]|"[!-~]{8,255}")$'


def idempotency_key_parse(header: str | None) -> str:
    """The client's Idempotency-Key, unquoted when sent as a quoted string.

    Raises 400 `idempotency_key_required` when absent, `idempotency_key_invalid` when not
    8-255 visible ASCII characters."""
    if header is None:
        raise ApplicationError(
            "idempotency_key_required", "Send an Idempotency-Key header with every transfer."
        )
    if len(header) >= 2 and header.startswith('"') and header.endswith('"'):
        header = header[1:-1]
    if not _KEY_PATTERN.fullmatch(header):
        raise ApplicationError(
            "idempotency_key_invalid",
            "An Idempotency-Key is 8-255 visible ASCII characters (0x21-0x7E).",
        )
    return header
