"""The transfer-pipeline phases: what each sends and what it must find afterwards.

Every transfer's Idempotency-Key starts with its phase's tag (`u-`, `hr-`, `hs-`, `ab-`,
`rp-`), so the outcome of a phase can be counted on its own. Amounts stay far below the
provisioned balances, except the hot sender's, whose balance is sized so that an exact number
of its transfers must succeed.
"""

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

from loadtests.client import Request, json_request

TRANSFER_PATH = "/api/wallet/transfer/"
BALANCE_PATH = "/api/wallet/balance/"


@dataclass(frozen=True)
class User:
    email: str
    token: str


def users_of(document: dict) -> list[User]:
    return [User(u["email"], u["access"]) for u in document["users"]]


class Keys:
    """Idempotency keys unique across the run: `<tag>-<n>`."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self, tag: str) -> str:
        return f"{tag}-{next(self._counter):08d}"


def transfer(sender: User, receiver: User, amount: str, key: str, expect: int = 202) -> Request:
    return json_request(
        "POST",
        TRANSFER_PATH,
        sender.token,
        {"receiver_email": receiver.email, "amount": amount},
        expect=expect,
        headers={"Idempotency-Key": key},
    )


def balance(user: User) -> Request:
    return json_request("GET", BALANCE_PATH, user.token)


def uniform(users: list[User], count: int, keys: Keys, rng: random.Random) -> list[Request]:
    """Random distinct sender and receiver, 1.00-9.99 each."""
    requests = []
    for _ in range(count):
        sender, receiver = rng.sample(users, 2)
        amount = f"{rng.randint(1, 9)}.{rng.randint(0, 99):02d}"
        requests.append(transfer(sender, receiver, amount, keys.next("u")))
    return requests


def hot_receiver(senders: list[User], receiver: User, keys: Keys) -> list[Request]:
    """Every sender pays 1.00 to the same receiver."""
    return [transfer(s, receiver, "1.00", keys.next("hr")) for s in senders if s != receiver]


def hot_sender(
    sender: User, receivers: list[User], count: int, keys: Keys, rng: random.Random
) -> list[Request]:
    """One sender pays 1.00 to `count` random receivers."""
    return [transfer(sender, rng.choice(receivers), "1.00", keys.next("hs")) for _ in range(count)]


def one_way(sender: User, receiver: User, count: int, keys: Keys) -> list[Request]:
    return [transfer(sender, receiver, "1.00", keys.next("ab")) for _ in range(count)]


def replays(sender: User, receiver: User, count: int, keys: Keys) -> Iterator[Request]:
    """The first request creates the transfer (202); the `count` after it repeat it (200)."""
    key = keys.next("rp")
    yield transfer(sender, receiver, "1.00", key)
    for _ in range(count):
        yield transfer(sender, receiver, "1.00", key, expect=200)
