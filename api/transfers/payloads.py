"""The JSON shapes of REST responses and socket events, built in one place so the two
cannot drift apart. Money is a two-decimal string, timestamps UTC with microseconds and `Z`."""

import uuid
from datetime import UTC, datetime
from typing import Literal, TypedDict

from django.contrib.auth.base_user import AbstractBaseUser

from api.accounts.models import Account
from api.core.money import format_paise
from api.transfers.models import Event, Transfer

CURRENCY = "INR"
# What clients see as the treasury's name: it has no user.
TREASURY_NAME = "VaultPay"


class PartyPayload(TypedDict):
    id: str | None
    full_name: str
    email: str | None


class TransferPayload(TypedDict):
    id: str
    status: str
    failure_code: str | None
    amount: str
    currency: str
    note: str
    sender: PartyPayload
    receiver: PartyPayload
    created_at: str
    settled_at: str | None


class BalancePayload(TypedDict):
    balance: str
    pending_out: str
    available: str
    currency: str
    updated_at: str


def timestamp_format(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def party_payload(user: AbstractBaseUser | None) -> PartyPayload:
    """A transfer's side as clients see it; the treasury (no user) is "VaultPay"."""
    if user is None:
        return {"id": None, "full_name": TREASURY_NAME, "email": None}
    return {"id": str(user.pk), "full_name": user.full_name, "email": user.email}


def transfer_payload(transfer: Transfer) -> TransferPayload:
    """Load the transfer with select_related("sender__user", "receiver__user") to build this
    without queries."""
    return transfer_payload_of(
        public_id=transfer.uuid,
        status=transfer.status,
        failure_code=transfer.failure_code,
        amount=transfer.amount,
        note=transfer.note,
        sender=party_payload(transfer.sender.user),
        receiver=party_payload(transfer.receiver.user),
        created_at=transfer.created_at,
        settled_at=transfer.settled_at,
    )


def transfer_payload_of(
    *,
    public_id: uuid.UUID,
    status: str,
    failure_code: str | None,
    amount: int,
    note: str,
    sender: PartyPayload,
    receiver: PartyPayload,
    created_at: datetime,
    settled_at: datetime | None,
) -> TransferPayload:
    """The transfer JSON from plain values, for paths that read no model instances."""
    return {
        "id": str(public_id),
        "status": status,
        "failure_code": failure_code,
        "amount": format_paise(amount),
        "currency": CURRENCY,
        "note": note,
        "sender": sender,
        "receiver": receiver,
        "created_at": timestamp_format(created_at),
        "settled_at": None if settled_at is None else timestamp_format(settled_at),
    }


def balance_payload(*, account: Account, pending_out: int) -> BalancePayload:
    """`available` may be negative: pending transfers are accepted without a funds check."""
    return {
        "balance": format_paise(account.balance),
        "pending_out": format_paise(pending_out),
        "available": format_paise(account.balance - pending_out),
        "currency": CURRENCY,
        "updated_at": timestamp_format(account.updated_at),
    }


class TransferUpdatedMessage(TypedDict):
    """WebSocket message of a stored `transfer.updated` event (docs/socket-protocol.md)."""

    type: Literal["transfer.updated"]
    seq: int
    transfer: TransferPayload


class BalanceUpdatedMessage(TypedDict):
    """WebSocket message of a stored `balance.updated` event (docs/socket-protocol.md)."""

    type: Literal["balance.updated"]
    seq: int
    balance: BalancePayload


EventMessage = TransferUpdatedMessage | BalanceUpdatedMessage

# The key under which each event type carries its stored payload.
_MESSAGE_KEYS = {Event.Type.TRANSFER_UPDATED: "transfer", Event.Type.BALANCE_UPDATED: "balance"}


def event_message(*, event_type: str, seq: int, payload: dict) -> EventMessage:
    """The message a socket sends for a stored event, live or replayed alike."""
    return {"type": event_type, "seq": seq, _MESSAGE_KEYS[event_type]: payload}  # type: ignore[return-value]
