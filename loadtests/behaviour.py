"""What each scenario's users do: locust user classes, one per scenario, selected by name on
the locust command line (`make loadtest SCENARIO=...` picks one for you).

Every answer is checked for content (`catch_response`, through `openloop.judge`): an accepted
transfer must be a 202 whose body is the PENDING transfer sent, with its Location; a replay a
200 marked `Idempotent-Replayed` carrying the same transfer; a bad request its 4xx in the error
envelope with the expected code. A 5xx anywhere fails the run.
"""

import json
import random
from collections import defaultdict, deque

from locust import FastHttpUser

from loadtests.data import (
    BadRequest,
    Keys,
    Population,
    Wallet,
    bad_corpus,
    small_amount,
    transfer_body,
)
from loadtests.envelope import error_code, error_kind
from loadtests.openloop import TALLY, Call, OpenLoopUser

TRANSFER = "transfer"


def accepted_check(receiver: Wallet, amount: str, on_id=None):
    """A 202 carrying the PENDING transfer that was sent, and its Location."""

    def check(status: int, headers, body: bytes) -> str | None:
        if status != 202:
            return error_kind(status, body)
        return transfer_problem(headers, body, receiver, amount, on_id, ("PENDING",))

    return check


def transfer_problem(
    headers, body: bytes, receiver: Wallet, amount: str, on_id, statuses: tuple[str, ...]
) -> str | None:
    try:
        transfer = json.loads(body)
        same = (transfer["amount"], transfer["receiver"]["email"]) == (amount, receiver.email)
        known = transfer["status"] in statuses
        where = headers.get("Location", "").endswith(f"/api/wallet/transfers/{transfer['id']}/")
    except (ValueError, KeyError, TypeError):
        return "2xx without a transfer body"
    if not same:
        return "2xx with another transfer's amount or receiver"
    if not known:
        return f"{transfer['status']} where {' or '.join(statuses)} was due"
    if not where:
        return "2xx without the transfer's Location"
    if on_id is not None:
        on_id(transfer["id"])
    return None


class Scenario(OpenLoopUser):
    """Shared setup: on_start checks readiness and logs in once with the population's
    password, so a run against a stack whose users are gone fails at once."""

    abstract = True
    tag = "x"

    def on_start(self) -> None:
        self.population = Population.load()
        self.rng = random.Random()  # noqa: S311 - load, not secrets
        self.keys = Keys(self.tag)
        TALLY.facts.setdefault("key_prefixes", {})[type(self).__name__] = self.keys.prefix
        readiness_check(self.client)
        login(self.client, self.population.crowd[0].email, self.population.password)

    def transfer(self, sender: Wallet, receiver: Wallet, amount: str, name: str = TRANSFER):
        return Call(
            name,
            transfer_body(receiver, amount),
            sender.headers(self.keys.next()),
            accepted_check(receiver, amount),
        )

    def two_of_the_crowd(self) -> tuple[Wallet, Wallet]:
        sender, receiver = self.rng.sample(self.population.crowd, 2)
        return sender, receiver


def readiness_check(client: FastHttpUser) -> None:
    with client.get("/readyz", name="readyz", catch_response=True) as response:
        if response.status_code != 200:
            response.failure(f"not ready: {error_kind(response.status_code, response.content)}")


def login(client, email: str, password: str) -> str | None:
    """POST /api/users/login/; the access token, or None (reported as a failure)."""
    body = json.dumps({"email": email, "password": password})
    with client.post(
        "/api/users/login/",
        name="login",
        data=body,
        headers={"Content-Type": "application/json"},
        catch_response=True,
    ) as response:
        try:
            document = json.loads(response.content)
            if response.status_code == 200 and document["user"]["email"] == email:
                return document["access"]
        except (ValueError, KeyError, TypeError):
            pass
        response.failure(f"login: {error_kind(response.status_code, response.content or b'')}")
        return None


class Uniform(Scenario):
    """Payments of 1.00-9.99 between random pairs of the crowd."""

    tag = "u"

    def next_call(self) -> Call:
        sender, receiver = self.two_of_the_crowd()
        return self.transfer(sender, receiver, small_amount(self.rng))


class HotReceiver(Scenario):
    """The whole crowd pays one merchant (`hot`)."""

    tag = "hr"

    def next_call(self) -> Call:
        sender = self.rng.choice(self.population.crowd)
        return self.transfer(sender, self.population.hot, small_amount(self.rng))


class HotSender(Scenario):
    """One payer (`hot`) pays 1.00 to random members of the crowd. It is funded for half of
    what the shape offers, so exactly that many must succeed and the rest fail
    `insufficient_funds` (checked after the run)."""

    tag = "hs"

    def next_call(self) -> Call:
        receiver = self.rng.choice(self.population.crowd)
        return self.transfer(self.population.hot, receiver, "1.00")


class Opposite(Scenario):
    """A pays B and B pays A, 1.00 each, alternately: locks in both orders at once must
    never deadlock, and every transfer must succeed."""

    tag = "ab"

    def on_start(self) -> None:
        super().on_start()
        self.turn = 0

    def next_call(self) -> Call:
        self.turn ^= 1
        a, b = self.population.a, self.population.b
        return self.transfer(a, b, "1.00") if self.turn else self.transfer(b, a, "1.00")


class Replay(Scenario):
    """Retries: a quarter of the requests use a new key, the rest repeat one of the last 50
    keys with the same body, often while the first is still in flight. Every answer for a
    key must carry the same transfer, at most one of them a 202 (verified from the tally and,
    after the run, from the database)."""

    tag = "rp"
    recent_keys = 50

    def on_start(self) -> None:
        super().on_start()
        self.recent: deque = deque(maxlen=self.recent_keys)
        self.ids: dict[str, set[str]] = defaultdict(set)
        self.created: dict[str, int] = defaultdict(int)
        self.keys_sent = 0

    def next_call(self) -> Call:
        if not self.recent or self.rng.random() < 0.25:
            sender, receiver = self.two_of_the_crowd()
            self.recent.append((self.keys.next(), sender, receiver, small_amount(self.rng)))
            self.keys_sent += 1
            key, sender, receiver, amount = self.recent[-1]
            name = f"{TRANSFER} (new key)"
        else:
            key, sender, receiver, amount = self.rng.choice(self.recent)
            name = f"{TRANSFER} (retry)"

        def check(status: int, headers, body: bytes) -> str | None:
            if status == 202:
                self.created[key] += 1
            elif status != 200:
                return error_kind(status, body)
            elif headers.get("Idempotent-Replayed") != "true":
                return "200 not marked Idempotent-Replayed"
            return transfer_problem(
                headers, body, receiver, amount, self.ids[key].add, ("PENDING", "SUCCESS")
            )

        return Call(name, transfer_body(receiver, amount), sender.headers(key), check)

    def finished(self) -> None:
        TALLY.facts["replay"] = {
            "keys_sent": self.keys_sent,
            "keys_answered": len(self.ids),
            "keys_with_two_transfers": sum(len(ids) > 1 for ids in self.ids.values()),
            "keys_created_twice": sum(n > 1 for n in self.created.values()),
            "requests_per_key": round(TALLY.sent / max(1, self.keys_sent), 2),
        }


class BadInput(Scenario):
    """Half good transfers, half drawn from the bad-input corpus (`data.bad_corpus`) or a
    known key sent with another amount. Each bad request must get its 4xx with the expected
    code in the error envelope; nothing may answer 5xx."""

    tag = "bad"

    def on_start(self) -> None:
        super().on_start()
        self.corpus = bad_corpus(*self.population.crowd[:2])
        self.used: deque = deque(maxlen=50)  # (sender, key, receiver) of accepted requests

    def next_call(self) -> Call:
        roll = self.rng.random()
        if roll < 0.5:
            sender, receiver = self.two_of_the_crowd()
            key = self.keys.next()

            def accepted(_transfer_id: str) -> None:
                # Reused only once its transfer exists: sent while the first request is still
                # in flight, the other body could arrive first and be the one accepted.
                self.used.append((sender, key, receiver))

            check = accepted_check(receiver, "1.00", on_id=accepted)
            return Call(TRANSFER, transfer_body(receiver, "1.00"), sender.headers(key), check)
        if roll < 0.55 and self.used:
            sender, key, receiver = self.rng.choice(self.used)
            reused = BadRequest(
                "key reused", transfer_body(receiver, "2.00"), 422, "idempotency_key_reused", key
            )
            return self.bad(reused, sender)
        return self.bad(self.rng.choice(self.corpus), self.population.crowd[0])

    def bad(self, request: BadRequest, sender: Wallet) -> Call:
        key = self.keys.next() if request.key == "fresh" else request.key
        headers = sender.headers(key)
        if not request.authenticated:
            del headers["Authorization"]

        def check(status: int, _headers, body: bytes) -> str | None:
            if (status, error_code(body)) == (request.status, request.code):
                return None
            return f"bad input '{request.name}': {error_kind(status, body)}"

        return Call(f"bad: {request.name}", request.body, headers, check)
