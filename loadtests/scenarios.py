"""What the load sends: scenarios, each a source of requests with the check of each answer
and what must hold in the ledger afterwards, and `Mix`, several of them by weight.

    mix = Mix.parse("uniform=6,replay=2,bad-input=1", population, funded_units=0)
    tally = await driver.open_loop(mix.next_request, shape)
    checks = mix.verify(ledger, tally)     # [Check(name, measured, passed)]

Every answer is checked for content: an accepted transfer must be a 202 whose body is the
PENDING transfer sent, with its Location (or, after a retry of the same key, the 200 replay of
it); a replay a 200 marked `Idempotent-Replayed` carrying the same transfer; a bad request its
4xx with the expected code in the error envelope. Every transfer's Idempotency-Key starts with
its scenario's tag (`u-`, `hr-`, `hs-`, `ab-`, `rp-`, `bad-`), so the ledger counts each
scenario's transfers on their own.

Roles (data.Population): `hot` is the payer of hot-sender, the first of the crowd is the
merchant of hot-receiver, `a` and `b` the opposite pair; only hot-sender pays `hot`'s money
and only opposite touches `a` and `b`, so their exact checks hold in any mix.
"""

import random
from collections import defaultdict, deque
from dataclasses import dataclass

from loadtests.data import (
    TRANSFER_PATH,
    BadRequest,
    Keys,
    Population,
    Wallet,
    bad_corpus,
    small_amount,
    transfer_body,
)
from loadtests.driver import Answer, Request, Tally
from loadtests.ledger import Ledger

TRANSFER = "transfer"
STORED = ("PENDING", "SUCCESS", "FAILED")  # what a replay may carry


@dataclass(frozen=True)
class Check:
    name: str
    measured: str
    passed: bool


def transfer_problem(
    answer: Answer, receiver: Wallet, amount: str, statuses: tuple[str, ...], on_id=None
) -> str | None:
    """What is wrong with a 2xx that should carry the transfer sent (None: nothing)."""
    transfer = answer.transfer
    if transfer is None:
        return "2xx without a transfer body"
    try:
        same = (transfer["amount"], transfer["receiver"]["email"]) == (amount, receiver.email)
    except (KeyError, TypeError):
        return "2xx without a transfer body"
    if not same:
        return "2xx with another transfer's amount or receiver"
    if transfer["status"] not in statuses:
        return f"{transfer['status']} where {' or '.join(statuses)} was due"
    if not answer.headers.get("Location", "").endswith(f"/api/wallet/transfers/{transfer['id']}/"):
        return "2xx without the transfer's Location"
    if on_id is not None:
        on_id(transfer["id"])
    return None


def accepted_check(receiver: Wallet, amount: str, on_id=None):
    """A 202 carrying the PENDING transfer sent; after a retry, its 200 replay."""

    def check(answer: Answer) -> str | None:
        if answer.status == 202:
            return transfer_problem(answer, receiver, amount, ("PENDING",), on_id)
        if answer.status == 200 and answer.headers.get("Idempotent-Replayed") == "true":
            return transfer_problem(answer, receiver, amount, STORED, on_id)
        return answer.kind

    return check


class Scenario:
    name = ""
    tag = "x"

    def __init__(self, population: Population, rng: random.Random) -> None:
        self.population, self.rng = population, rng
        self.keys = Keys(self.tag)

    def next_request(self) -> Request:
        raise NotImplementedError

    def verify(self, ledger: Ledger, tally: Tally) -> list[Check]:
        """What must hold in the ledger once every transfer settled."""
        return []

    def transfer(self, sender: Wallet, receiver: Wallet, amount: str, on_id=None) -> Request:
        return Request(
            TRANSFER, "POST", TRANSFER_PATH, sender=sender, key=self.keys.next(),
            body=transfer_body(receiver, amount), check=accepted_check(receiver, amount, on_id),
        )  # fmt: skip

    def two_of_the_crowd(self) -> tuple[Wallet, Wallet]:
        sender, receiver = self.rng.sample(self.population.crowd, 2)
        return sender, receiver


class Uniform(Scenario):
    """Payments of 1.00-9.99 between random pairs of the crowd."""

    name, tag = "uniform", "u"

    def next_request(self) -> Request:
        sender, receiver = self.two_of_the_crowd()
        return self.transfer(sender, receiver, small_amount(self.rng))


class HotReceiver(Scenario):
    """The crowd pays one merchant (the first of the crowd)."""

    name, tag = "hot-receiver", "hr"

    def next_request(self) -> Request:
        merchant, *others = self.population.crowd
        return self.transfer(self.rng.choice(others), merchant, small_amount(self.rng))


class HotSender(Scenario):
    """`hot` pays 1.00 to random members of the crowd. It is funded for `funded_units`
    transfers (half of what the run offers it), so exactly min(accepted, funded) must
    succeed and the rest fail `insufficient_funds`."""

    name, tag = "hot-sender", "hs"

    def __init__(self, population: Population, rng: random.Random, funded_units: int) -> None:
        super().__init__(population, rng)
        self.funded_units = funded_units

    def next_request(self) -> Request:
        return self.transfer(self.population.hot, self.rng.choice(self.population.crowd), "1.00")

    def verify(self, ledger: Ledger, tally: Tally) -> list[Check]:
        outcomes = ledger.outcomes(key_prefix=self.keys.prefix)
        accepted, success = sum(outcomes.values()), outcomes.get("SUCCESS", 0)
        expected = min(accepted, self.funded_units)
        balance = ledger.balance(email=self.population.hot.email)
        exact = (
            success == expected
            and outcomes.get("insufficient_funds", 0) == accepted - expected
            and balance == f"{self.funded_units - success}.00"
        )
        return [
            Check(
                "Hot sender: exact outcomes",
                f"{accepted:,} accepted, funds for {self.funded_units:,} at 1.00: {success:,} "
                f"SUCCESS (expected {expected:,}), balance left {balance}",
                exact,
            )
        ]


class Opposite(Scenario):
    """A pays B and B pays A, 1.00 each, alternately: locks taken in both orders at once must
    never deadlock, and every transfer must succeed."""

    name, tag = "opposite", "ab"

    def __init__(self, population: Population, rng: random.Random) -> None:
        super().__init__(population, rng)
        self.turn = 0

    def next_request(self) -> Request:
        self.turn ^= 1
        a, b = self.population.a, self.population.b
        return self.transfer(a, b, "1.00") if self.turn else self.transfer(b, a, "1.00")

    def verify(self, ledger: Ledger, tally: Tally) -> list[Check]:
        outcomes = ledger.outcomes(key_prefix=self.keys.prefix)
        a = ledger.balance(email=self.population.a.email)
        b = ledger.balance(email=self.population.b.email)
        funded = 2 * float(self.population.balance)
        return [
            Check(
                "A<->B: every transfer SUCCESS, no money lost",
                f"{outcomes}; balances A {a}, B {b}",
                float(a) + float(b) == funded and set(outcomes) <= {"SUCCESS"},
            )
        ]


class Replay(Scenario):
    """Retries: a quarter of the requests use a new key, the rest repeat one of the last 50
    keys with the same body, often while the first is still in flight. Every answer for a key
    must carry the same transfer, at most one of them a 202, and no more transfers may be
    stored than keys sent."""

    name, tag = "replay", "rp"
    recent_keys = 50

    def __init__(self, population: Population, rng: random.Random) -> None:
        super().__init__(population, rng)
        self.recent: deque = deque(maxlen=self.recent_keys)
        self.ids: dict[str, set[str]] = defaultdict(set)
        self.created: dict[str, int] = defaultdict(int)
        self.keys_sent = 0

    def next_request(self) -> Request:
        if not self.recent or self.rng.random() < 0.25:
            sender, receiver = self.two_of_the_crowd()
            self.recent.append((self.keys.next(), sender, receiver, small_amount(self.rng)))
            self.keys_sent += 1
            key, sender, receiver, amount = self.recent[-1]
            name = f"{TRANSFER} (new key)"
        else:
            key, sender, receiver, amount = self.rng.choice(self.recent)
            name = f"{TRANSFER} (retry)"

        def check(answer: Answer) -> str | None:
            if answer.status == 202:
                self.created[key] += 1
            elif answer.status != 200:
                return answer.kind
            elif answer.headers.get("Idempotent-Replayed") != "true":
                return "200 not marked Idempotent-Replayed"
            return transfer_problem(answer, receiver, amount, STORED, self.ids[key].add)

        body = transfer_body(receiver, amount)
        return Request(name, "POST", TRANSFER_PATH, sender=sender, key=key, body=body, check=check)

    def verify(self, ledger: Ledger, tally: Tally) -> list[Check]:
        stored = sum(ledger.outcomes(key_prefix=self.keys.prefix).values())
        twice = sum(len(ids) > 1 for ids in self.ids.values())
        created_twice = sum(n > 1 for n in self.created.values())
        return [
            Check(
                "Replays never create a second transfer",
                f"{self.keys_sent:,} keys sent, {len(self.ids):,} answered; keys with two "
                f"transfers {twice}, created twice {created_twice}; transfers stored {stored:,}",
                twice == 0 and created_twice == 0 and stored <= self.keys_sent,
            )
        ]


class BadInput(Scenario):
    """Half good transfers, half from the bad-input corpus (`data.bad_corpus`) or a known key
    sent with another amount. Each bad request must get its 4xx with the expected code in the
    error envelope; nothing may answer 5xx."""

    name, tag = "bad-input", "bad"

    def __init__(self, population: Population, rng: random.Random) -> None:
        super().__init__(population, rng)
        self.corpus = bad_corpus(*population.crowd[:2])
        self.used: deque = deque(maxlen=50)  # (sender, key, receiver) of accepted requests

    def next_request(self) -> Request:
        roll = self.rng.random()
        if roll < 0.5:
            sender, receiver = self.two_of_the_crowd()
            # Reused only once its transfer exists: sent while the first request is in flight,
            # the other body could arrive first and be the one accepted.
            request = self.transfer(
                sender, receiver, "1.00", on_id=lambda _id: self.used.append(request)
            )
            return request
        if roll < 0.55 and self.used:
            accepted = self.rng.choice(self.used)
            receiver_email = accepted.body["receiver_email"]
            reused = BadRequest(
                "key reused",
                transfer_body(receiver_email, "2.00"),
                422,
                "idempotency_key_reused",
                accepted.key,
            )
            return self.bad(reused, accepted.sender)
        return self.bad(self.rng.choice(self.corpus), self.population.crowd[0])

    def bad(self, bad: BadRequest, sender: Wallet) -> Request:
        key = self.keys.next() if bad.key == "fresh" else bad.key

        def check(answer: Answer) -> str | None:
            if (answer.status, answer.code) == (bad.status, bad.code):
                return None
            return f"bad input '{bad.name}': {answer.kind}"

        return Request(
            f"bad: {bad.name}", "POST", TRANSFER_PATH, sender=sender if bad.authenticated else None,
            key=key, body=bad.body, check=check,
        )  # fmt: skip

    def verify(self, ledger: Ledger, tally: Tally) -> list[Check]:
        wrong = {k: n for k, n in tally.check_failures.items() if k.startswith("bad input")}
        return [
            Check(
                "Every bad request got its 4xx in the envelope",
                str(wrong) if wrong else "all as expected",
                not wrong,
            )
        ]


class SocketPayers(Scenario):
    """The socket users pay 1.00 to random members of the crowd, in turn; `on_id(id,
    request)` hears of each accepted transfer (to time its event on the payer's socket)."""

    name, tag = "socket users", "ws"

    def __init__(self, population: Population, rng: random.Random, on_id) -> None:
        super().__init__(population, rng)
        self.on_id, self.turn = on_id, 0

    def next_request(self) -> Request:
        self.turn += 1
        sender = self.population.sockets[self.turn % len(self.population.sockets)]
        receiver = self.rng.choice(self.population.crowd)
        while receiver is sender:  # the crowd may hold the payers too (bench-realtime)
            receiver = self.rng.choice(self.population.crowd)
        request = self.transfer(sender, receiver, "1.00", on_id=lambda i: self.on_id(i, request))
        request.name = "transfer (socket user)"
        return request


SCENARIOS = {s.name: s for s in (Uniform, HotReceiver, HotSender, Opposite, Replay, BadInput)}


class Mix:
    """Scenarios by weight: each request comes from one of them, drawn at random."""

    def __init__(self, parts: list[tuple[float, Scenario]], rng: random.Random) -> None:
        self.parts, self.rng = parts, rng
        self.weights = [weight for weight, _ in parts]

    @staticmethod
    def shares(spec: str) -> dict[str, float]:
        """`uniform` or `uniform=6,replay=2`: each scenario's share of the requests."""
        weights = {}
        for part in spec.split(","):
            name, _, weight = part.partition("=")
            if name not in SCENARIOS:
                raise ValueError(f"unknown scenario {name!r}: one of {', '.join(SCENARIOS)}")
            weights[name] = float(weight or 1)
        total = sum(weights.values())
        return {name: weight / total for name, weight in weights.items()}

    @classmethod
    def parse(
        cls, spec: str, population: Population, *, funded_units: int, seed: int | None = None
    ) -> "Mix":
        rng = random.Random(seed)  # noqa: S311 - load, not secrets
        parts = []
        for name, share in cls.shares(spec).items():
            if name == "hot-sender":
                scenario = HotSender(population, rng, funded_units)
            else:
                scenario = SCENARIOS[name](population, rng)
            parts.append((share, scenario))
        return cls(parts, rng)

    @property
    def scenarios(self) -> list[Scenario]:
        return [scenario for _, scenario in self.parts]

    @property
    def name(self) -> str:
        return "+".join(s.name for s in self.scenarios)

    def next_request(self) -> Request:
        if len(self.parts) == 1:
            return self.parts[0][1].next_request()
        return self.rng.choices(self.scenarios, self.weights)[0].next_request()

    def verify(self, ledger: Ledger, tally: Tally) -> list[Check]:
        return [check for scenario in self.scenarios for check in scenario.verify(ledger, tally)]
