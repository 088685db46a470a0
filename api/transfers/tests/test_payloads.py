from datetime import UTC, datetime, timedelta, timezone

import pytest

from api.accounts.models import Account
from api.transfers.payloads import balance_payload, party_payload, timestamp_format
from api.transfers.selectors import account_balance_get
from api.transfers.tests.helpers import pending_create

pytestmark = pytest.mark.django_db


def test_timestamps_are_converted_to_utc():
    ist = timezone(timedelta(hours=5, minutes=30))
    moment = datetime(2026, 11, 25, 15, 0, 0, 5, tzinfo=ist)
    assert timestamp_format(moment) == "2026-11-25T09:30:00.000005Z"
    assert timestamp_format(moment.astimezone(UTC)) == "2026-11-25T09:30:00.000005Z"


def test_the_treasury_is_vaultpay():
    assert party_payload(None) == {"id": None, "full_name": "VaultPay", "email": None}


def test_available_may_be_negative():
    account = Account(balance=1000, updated_at=datetime(2026, 11, 25, 9, 30, tzinfo=UTC))
    assert balance_payload(account=account, pending_out=2550) == {
        "balance": "10.00",
        "pending_out": "25.50",
        "available": "-15.50",
        "currency": "INR",
        "updated_at": "2026-11-25T09:30:00.000000Z",
    }


def test_balance_counts_only_outgoing_pending(make_wallet):
    alice, bob = make_wallet(balance=1000), make_wallet(balance=5000)
    pending_create(sender=alice, receiver=bob, amount=300)
    pending_create(sender=alice, receiver=bob, amount=1200)
    pending_create(sender=bob, receiver=alice, amount=4000)

    balance = account_balance_get(account=alice)
    assert (balance["balance"], balance["pending_out"], balance["available"]) == (
        "10.00",
        "15.00",
        "-5.00",
    )
