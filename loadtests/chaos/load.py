"""What a fault run offers: the harness's scenarios in one open loop, plus hot pairs.

Uniform payments between random users (the socket users included, so their streams carry
events), a few hot pairs paying each other both ways (per-sender order and lock order under
contention), and replays of keys already sent (idempotency while the first is in flight or
after it settled).
"""

import dataclasses
import random

from loadtests.data import Population, Wallet
from loadtests.driver import Request
from loadtests.scenarios import Mix, Replay, Scenario, Uniform

HOT_PAIRS = 3
SHARES = {"uniform": 0.7, "hot pairs": 0.15, "replay": 0.15}


class HotPairs(Scenario):
    """A few pairs of the crowd pay each other 1.00, both ways, in turn."""

    name, tag = "hot-pairs", "hp"

    def __init__(self, population: Population, rng: random.Random) -> None:
        super().__init__(population, rng)
        crowd = population.crowd
        self.pairs: list[tuple[Wallet, Wallet]] = [
            (crowd[2 * i], crowd[2 * i + 1]) for i in range(HOT_PAIRS)
        ]
        self.turn = 0

    def next_request(self) -> Request:
        self.turn += 1
        a, b = self.pairs[self.turn % len(self.pairs)]
        sender, receiver = (a, b) if (self.turn // len(self.pairs)) % 2 else (b, a)
        return self.transfer(sender, receiver, "1.00")


def chaos_mix(population: Population, seed: int) -> tuple[Mix, Population]:
    """The mix, and the population it draws from (the socket users join the crowd)."""
    population = dataclasses.replace(population, crowd=population.crowd + population.sockets)
    rng = random.Random(seed)  # noqa: S311 - reproducible load, not secrets
    parts = [
        (SHARES["uniform"], Uniform(population, rng)),
        (SHARES["hot pairs"], HotPairs(population, rng)),
        (SHARES["replay"], Replay(population, rng)),
    ]
    return Mix(parts, rng), population
