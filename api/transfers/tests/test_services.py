from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from api.accounts.selectors import account_treasury_get
from api.core.exceptions import ApplicationError
from api.transfers.idempotency import transfer_fingerprint, welcome_idempotency_key
from api.transfers.models import Event, LedgerEntry, Transfer
from api.transfers.services import (
    transfer_create_pending,
    transfers_settle_pending_of_user,
    welcome_credit_grant,
)
from api.transfers.settlement import transfers_settle
from api.transfers.tests.helpers import deposit, pending_create, settle

pytestmark = pytest.mark.django_db


def balances(*accounts) -> list[int]:
    for account in accounts:
        account.refresh_from_db()
    return [account.balance for account in accounts]


def create(sender, receiver, amount, *, key="key-0001", note=""):
    """Accepts a transfer in its own outermost transaction, as the API view does."""
    with transaction.atomic(durable=True):
        return transfer_create_pending(
            sender=sender,
            receiver=receiver,
            amount=amount,
            note=note,
            idempotency_key=key,
            fingerprint=transfer_fingerprint(
                receiver_email=receiver.user.email, amount=amount, note=note
            ),
        )


class TestTransferCreatePending:
    def test_stores_a_pending_transfer_and_moves_nothing(self, make_wallet):
        alice, bob = make_wallet(balance=5000), make_wallet()
        transfer, created = create(alice, bob, 1250, note="chai")

        assert created
        transfer.refresh_from_db()
        assert (transfer.status, transfer.failure_code, transfer.settled_at) == (
            Transfer.Status.PENDING,
            None,
            None,
        )
        assert (transfer.amount, transfer.note, transfer.kind) == (1250, "chai", "payment")
        assert balances(alice, bob) == [5000, 0]
        assert not LedgerEntry.objects.filter(transfer=transfer).exists()
        assert not Event.objects.filter(user=bob.user).exists()

    def test_same_key_and_fingerprint_replays_the_transfer(self, make_wallet):
        alice, bob = make_wallet(), make_wallet()
        first, _ = create(alice, bob, 100)
        replay, created = create(alice, bob, 100)

        assert not created
        assert replay.pk == first.pk
        assert Transfer.objects.filter(sender=alice).count() == 1

    def test_same_key_with_another_fingerprint_is_refused(self, make_wallet):
        alice, bob = make_wallet(), make_wallet()
        create(alice, bob, 100)

        with pytest.raises(ApplicationError) as caught:
            create(alice, bob, 101)
        assert (caught.value.code, caught.value.status) == ("idempotency_key_reused", 422)

    def test_keys_are_scoped_per_sender(self, make_wallet):
        alice, bob, carol = make_wallet(), make_wallet(), make_wallet()
        first, _ = create(alice, carol, 100)
        second, created = create(bob, carol, 100)

        assert created and second.pk != first.pk

    def test_a_known_key_replays_before_validation(self, make_wallet):
        alice, bob = make_wallet(), make_wallet()
        first, _ = create(alice, bob, 100)
        bob.user.is_active = False
        bob.user.save()

        replay, created = create(alice, bob, 100)
        assert (replay.pk, created) == (first.pk, False)

    @pytest.mark.parametrize(
        ("amount", "note", "code", "fields"),
        [
            (0, "", "validation_error", {"amount": ["Must be more than 0.00."]}),
            (10_000_001, "", "validation_error", {"amount": ["At most 100000.00."]}),
            (100, "x" * 141, "validation_error", {"note": ["At most 140 characters."]}),
        ],
    )
    def test_invalid_requests_store_nothing(self, make_wallet, amount, note, code, fields):
        alice, bob = make_wallet(), make_wallet()
        with pytest.raises(ApplicationError) as caught:
            create(alice, bob, amount, note=note)

        assert (caught.value.code, caught.value.status, caught.value.fields) == (code, 400, fields)
        assert not Transfer.objects.filter(sender=alice).exists()

    def test_the_maximum_amount_and_a_140_character_note_are_accepted(self, make_wallet):
        alice, bob = make_wallet(), make_wallet()
        transfer, created = create(alice, bob, 10_000_000, note="₹" * 140)
        assert created and transfer.amount == 10_000_000

    def test_self_transfer_is_refused(self, make_wallet):
        alice = make_wallet()
        with pytest.raises(ApplicationError) as caught:
            create(alice, alice, 100)
        assert caught.value.code == "self_transfer"

    def test_inactive_receiver_is_not_found(self, make_wallet):
        alice, bob = make_wallet(), make_wallet(is_active=False)
        with pytest.raises(ApplicationError) as caught:
            create(alice, bob, 100)
        assert caught.value.code == "receiver_not_found"
        assert not Transfer.objects.exists()


class TestTransferSettle:
    def test_success_writes_two_entries_and_moves_the_balances(self, make_wallet):
        alice, bob = make_wallet(balance=5000), make_wallet(balance=300)
        transfer = settle(pending_create(sender=alice, receiver=bob, amount=1250).pk)

        assert (transfer.status, transfer.failure_code) == (Transfer.Status.SUCCESS, None)
        assert transfer.settled_at is not None
        assert balances(alice, bob) == [3750, 1550]
        entries = list(
            LedgerEntry.objects.filter(transfer=transfer)
            .order_by("amount")
            .values_list("account_id", "amount", "balance_after")
        )
        assert entries == [(alice.pk, -1250, 3750), (bob.pk, 1250, 1550)]

    def test_exactly_the_balance_can_be_sent(self, make_wallet):
        alice, bob = make_wallet(balance=700), make_wallet()
        transfer = settle(pending_create(sender=alice, receiver=bob, amount=700).pk)

        assert transfer.status == Transfer.Status.SUCCESS
        assert balances(alice, bob) == [0, 700]

    def test_insufficient_funds_fails_and_moves_nothing(self, make_wallet):
        alice, bob = make_wallet(balance=699), make_wallet()
        transfer = settle(pending_create(sender=alice, receiver=bob, amount=700).pk)

        assert (transfer.status, transfer.failure_code) == ("FAILED", "insufficient_funds")
        assert transfer.settled_at is not None
        assert balances(alice, bob) == [699, 0]
        assert not LedgerEntry.objects.filter(transfer=transfer).exists()

    @pytest.mark.parametrize(
        ("inactive", "code"), [("sender", "sender_inactive"), ("receiver", "receiver_inactive")]
    )
    def test_inactive_party_fails(self, make_wallet, inactive, code):
        alice, bob = make_wallet(balance=1000), make_wallet()
        pending = pending_create(sender=alice, receiver=bob, amount=100)
        user = (alice if inactive == "sender" else bob).user
        user.is_active = False
        user.save()

        transfer = settle(pending.pk)
        assert (transfer.status, transfer.failure_code) == ("FAILED", code)
        assert balances(alice, bob) == [1000, 0]

    def test_expiry_wins_over_every_other_reason(self, make_wallet, settings):
        settings.TRANSFER_TTL_SECONDS = 60
        alice, bob = make_wallet(balance=0, is_active=False), make_wallet()
        pending = pending_create(sender=alice, receiver=bob, amount=100)
        Transfer.objects.filter(pk=pending.pk).update(
            created_at=timezone.now() - timedelta(seconds=61)
        )

        transfer = settle(pending.pk)
        assert (transfer.status, transfer.failure_code) == ("FAILED", "expired")

    def test_a_transfer_younger_than_the_ttl_settles(self, make_wallet, settings):
        settings.TRANSFER_TTL_SECONDS = 60
        alice, bob = make_wallet(balance=100), make_wallet()
        pending = pending_create(sender=alice, receiver=bob, amount=100)
        Transfer.objects.filter(pk=pending.pk).update(
            created_at=timezone.now() - timedelta(seconds=50)
        )

        assert settle(pending.pk).status == Transfer.Status.SUCCESS

    def test_the_treasury_may_go_below_zero(self, make_wallet):
        bob = make_wallet()
        transfer = deposit(account=bob, amount=1_000_000)

        treasury = account_treasury_get()
        assert transfer.sender_id == treasury.pk
        assert balances(treasury, bob) == [-1_000_000, 1_000_000]

    def test_settling_twice_applies_the_money_once(self, make_wallet):
        alice, bob = make_wallet(balance=1000), make_wallet()
        pending = pending_create(sender=alice, receiver=bob, amount=400)
        first = settle(pending.pk)
        events = Event.objects.count()

        again = settle(pending.pk)
        assert (again.pk, again.status, again.settled_at) == (
            first.pk,
            Transfer.Status.SUCCESS,
            first.settled_at,
        )
        assert balances(alice, bob) == [600, 400]
        assert LedgerEntry.objects.filter(transfer=pending).count() == 2
        assert Event.objects.count() == events

    def test_a_batch_checks_funds_in_acceptance_order_against_running_balances(self, make_wallet):
        alice, bob, carol = make_wallet(balance=10000), make_wallet(), make_wallet()
        first = pending_create(sender=alice, receiver=bob, amount=7000)
        second = pending_create(sender=alice, receiver=carol, amount=5000)
        third = pending_create(sender=alice, receiver=bob, amount=3000)

        with transaction.atomic(durable=True):
            settled = transfers_settle(transfer_ids=[third.pk, second.pk, first.pk])

        assert [(t.pk, t.status, t.failure_code) for t in settled] == [
            (first.pk, "SUCCESS", None),
            (second.pk, "FAILED", "insufficient_funds"),
            (third.pk, "SUCCESS", None),
        ]
        assert balances(alice, bob, carol) == [0, 10000, 0]
        alice_entries = LedgerEntry.objects.filter(account=alice, amount__lt=0).order_by("id")
        assert list(alice_entries.values_list("amount", "balance_after")) == [
            (-7000, 3000),
            (-3000, 0),
        ]


class TestWelcomeCredit:
    def test_credits_the_welcome_amount_from_the_treasury(self, make_wallet, settings):
        settings.WELCOME_CREDIT_PAISE = 100000
        wallet = make_wallet()
        with transaction.atomic(durable=True):
            transfer = welcome_credit_grant(user=wallet.user)

        assert (transfer.status, transfer.kind, transfer.amount) == ("SUCCESS", "welcome", 100000)
        assert transfer.sender_id == account_treasury_get().pk
        assert transfer.idempotency_key == welcome_idempotency_key(user_id=wallet.user.pk)
        assert balances(wallet) == [100000]

    def test_is_granted_once(self, make_wallet, settings):
        settings.WELCOME_CREDIT_PAISE = 100000
        wallet = make_wallet()
        with transaction.atomic(durable=True):
            first = welcome_credit_grant(user=wallet.user)
        with transaction.atomic(durable=True):
            second = welcome_credit_grant(user=wallet.user)

        assert second.pk == first.pk
        assert Transfer.objects.filter(receiver=wallet).count() == 1
        assert balances(wallet) == [100000]

    def test_a_zero_welcome_credit_grants_nothing(self, make_wallet, settings):
        settings.WELCOME_CREDIT_PAISE = 0
        wallet = make_wallet()

        assert welcome_credit_grant(user=wallet.user) is None
        assert not Transfer.objects.filter(receiver=wallet).exists()


class TestSettlePendingOfUser:
    def test_a_deactivated_users_pending_transfers_all_fail(self, make_wallet):
        alice, bob, carol = make_wallet(balance=1000), make_wallet(balance=1000), make_wallet()
        out = pending_create(sender=alice, receiver=bob, amount=100)
        incoming = pending_create(sender=bob, receiver=alice, amount=200)
        unrelated = pending_create(sender=bob, receiver=carol, amount=300)

        with transaction.atomic(durable=True):
            alice.user.is_active = False
            alice.user.save()
            assert transfers_settle_pending_of_user(user=alice.user) == 2

        statuses = dict(Transfer.objects.values_list("pk", "failure_code"))
        assert statuses[out.pk] == "sender_inactive"
        assert statuses[incoming.pk] == "receiver_inactive"
        assert statuses[unrelated.pk] is None
        assert balances(alice, bob, carol) == [1000, 1000, 0]

    def test_nothing_pending_settles_nothing(self, make_wallet):
        wallet = make_wallet()
        with transaction.atomic(durable=True):
            assert transfers_settle_pending_of_user(user=wallet.user) == 0
