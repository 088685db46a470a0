"""Idempotency keys and request fingerprints (contract section 4)."""

import hashlib
import json
import uuid


def transfer_fingerprint(*, receiver_email: str, amount: int, note: str) -> str:
    """What a replay must repeat to get the same transfer back: lower-cased receiver email,
    amount in paise and note, hashed to fit the column (SHA-256 hex)."""
    canonical = json.dumps([receiver_email.lower(), amount, note], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def welcome_idempotency_key(*, user_id: uuid.UUID) -> str:
    """The treasury-scoped key of a user's welcome credit. The space cannot occur in a client's
    key (0x21-0x7E only), so no deposit key can ever collide with it."""
    return f"welcome {user_id}"
