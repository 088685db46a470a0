"""Property test: random accepts, deposits, settlements (single and batched) and deactivations
against a small in-memory model of the ledger rules. After every step the database agrees
with the model; at the end of each run the ledger audit passes."""

import uuid
from dataclasses import dataclass

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from api.accounts.models import Account
from api.accounts.selectors import account_treasury_get
from api.accounts.tests.factories import wallet_create
from api.transfers.audit import ledger_audit_run
from api.transfers.idempotency import transfer_fingerprint
from api.transfers.models import Event, Transfer
from api.transfers.services import transfer_create_pending, transfers_settle_pending_of_user
from api.transfers.settlement import transfers_settle
from api.transfers.tests.helpers import transfer_settle

WALLETS = 4
# Few distinct amounts, so that "exactly the balance" comes up often.
AMOUNTS = st.sampled_from([100, 200, 500])


@dataclass
class Pending:
    pk: int
    sender: int | None  # wallet index; None is the treasury
    receiver: int
    amount: int


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each run lives in a savepoint of the test's transaction and is rolled back at the
        # end, so runs start from an empty ledger.
        self.run = transaction.atomic()
        self.run.__enter__()
        self.treasury = account_treasury_get()
        self.wallets = [wallet_create() for _ in range(WALLETS)]
        self.balances = [0] * WALLETS
        self.active = [True] * WALLETS
        self.events = [0] * WALLETS
        self.pending: list[Pending] = []

    def teardown(self):
        assert ledger_audit_run(stale_after_seconds=60).violations == []
        transaction.set_rollback(True)
        self.run.__exit__(None, None, None)

    def _account(self, index: int | None) -> Account:
        return self.treasury if index is None else self.wallets[index]

    def _accept(self, sender: int | None, receiver: int, amount: int) -> None:
        account = self._account(receiver)
        with transaction.atomic():
            transfer, _ = transfer_create_pending(
                sender=self._account(sender),
                receiver=account,
                amount=amount,
                kind=Transfer.Kind.PAYMENT if sender is not None else Transfer.Kind.DEPOSIT,
                idempotency_key=uuid.uuid4().hex,
                fingerprint=transfer_fingerprint(
                    receiver_email=account.user.email, amount=amount, note=""
                ),
            )
        self.pending.append(Pending(transfer.pk, sender, receiver, amount))

    def _expected(self, transfer: Pending) -> tuple[str, str | None]:
        """Applies `transfer` to the model; returns its expected status and failure code."""
        self.pending.remove(transfer)
        sender, receiver = transfer.sender, transfer.receiver
        if sender is not None and not self.active[sender]:
            outcome = ("FAILED", "sender_inactive")
        elif not self.active[receiver]:
            outcome = ("FAILED", "receiver_inactive")
        elif sender is not None and self.balances[sender] < transfer.amount:
            outcome = ("FAILED", "insufficient_funds")
        else:
            outcome = ("SUCCESS", None)
            if sender is not None:
                self.balances[sender] -= transfer.amount
            self.balances[receiver] += transfer.amount
        return outcome

    def _told(self, finished: list[tuple[Pending, tuple]]) -> None:
        """Counts the events a settlement of `finished` stores for each wallet."""
        told: dict[int, int] = {}
        for transfer, (status, _) in finished:
            parties = [transfer.sender] + ([transfer.receiver] if status == "SUCCESS" else [])
            for party in parties:
                if party is not None:
                    told[party] = told.get(party, 0) + 1
        for index, transfers in told.items():
            self.events[index] += transfers + 1

    @rule(
        sender=st.integers(0, WALLETS - 1),
        receiver=st.integers(0, WALLETS - 1),
        amount=AMOUNTS,
    )
    def accept_payment(self, sender, receiver, amount):
        if sender != receiver and self.active[receiver]:
            self._accept(sender, receiver, amount)

    @rule(receiver=st.integers(0, WALLETS - 1), amount=AMOUNTS)
    def accept_deposit(self, receiver, amount):
        if self.active[receiver]:
            self._accept(None, receiver, amount)

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def settle_one(self, data):
        transfer = data.draw(st.sampled_from(self.pending))
        with transaction.atomic():
            settled = transfer_settle(transfer_id=transfer.pk)
        expected = self._expected(transfer)
        assert (settled.status, settled.failure_code) == expected
        self._told([(transfer, expected)])

    @precondition(lambda self: self.pending)
    @rule()
    def settle_all_in_one_batch(self):
        batch = sorted(self.pending, key=lambda t: t.pk)
        with transaction.atomic():
            settled = transfers_settle(transfer_ids=[t.pk for t in reversed(batch)])
        finished = [(transfer, self._expected(transfer)) for transfer in batch]
        assert [(t.pk, t.status, t.failure_code) for t in settled] == [
            (transfer.pk, *outcome) for transfer, outcome in finished
        ]
        self._told(finished)

    # One deactivation per run at most: more would leave too little to explore.
    @precondition(lambda self: all(self.active))
    @rule(index=st.integers(0, WALLETS - 1))
    def deactivate(self, index):
        user = self.wallets[index].user
        with transaction.atomic():
            user.is_active = False
            user.save(update_fields=["is_active"])
            count = transfers_settle_pending_of_user(user=user)
        self.active[index] = False
        mine = [
            t for t in sorted(self.pending, key=lambda t: t.pk) if index in (t.sender, t.receiver)
        ]
        assert count == len(mine)
        self._told([(transfer, self._expected(transfer)) for transfer in mine])

    @invariant()
    def database_agrees_with_the_model(self):
        rows = dict(Account.objects.values_list("pk", "balance"))
        assert [rows[w.pk] for w in self.wallets] == self.balances
        assert rows[self.treasury.pk] == -sum(self.balances)
        seqs = dict(Account.objects.values_list("pk", "last_seq"))
        assert [seqs[w.pk] for w in self.wallets] == self.events
        assert Event.objects.count() == sum(self.events)
        pending = Transfer.objects.filter(status="PENDING").values_list("pk", flat=True)
        assert sorted(pending) == sorted(t.pk for t in self.pending)


@pytest.mark.django_db
def test_the_ledger_follows_its_model():
    run = LedgerMachine.TestCase
    run.settings = settings(
        max_examples=25,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    run().runTest()
