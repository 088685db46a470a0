"""The seeded fault schedule: which faults, in which order, with which pauses between them.

The same seed gives the same schedule (`make chaos SEED=n` replays a run's faults, as
TigerBeetle's VOPR replays a seed): the order of the faults is a permutation drawn from the
seed; the first fault comes after a warm-up, and each later pause (from the end of one fault
to the start of the next) is drawn from [gap, gap + jitter]. Only one fault is in force at a
time. `EXPECTED` says how long each fault usually lasts, to size the load's duration.
"""

import random
from dataclasses import dataclass

FAULTS = {
    "pool-child-kill": "SIGKILL of a Celery worker pool child mid-batch",
    "worker-kill": "SIGKILL of a whole Celery worker (master and pool), then a restart",
    "redis-stop": "Redis stopped 10 s without saving (the broker's queue is lost), then started",
    "redis-freeze": "Redis frozen for 10 s (SIGSTOP), then SIGCONT",
    "postgres-crash": "PostgreSQL stopped in immediate mode (a crash), then started",
    "postgres-stop": "PostgreSQL stopped in fast mode for 10 s, then started",
    "ws-kill": "SIGKILL of the socket server, then a restart",
    "web-worker-kill": "SIGKILL of a web (granian) worker process",
}
SHORT_FAULTS = ("worker-kill", "redis-stop", "ws-kill")
# Seconds from a fault's start to its end (the server or process serving again), as measured.
EXPECTED = {
    "pool-child-kill": 0.5,
    "worker-kill": 1.5,
    "redis-stop": 10.5,
    "redis-freeze": 10.0,
    "postgres-crash": 3.0,
    "postgres-stop": 12.0,
    "ws-kill": 3.5,
    "web-worker-kill": 0.0,
}


@dataclass(frozen=True)
class Step:
    fault: str
    pause: float  # seconds from the end of the previous fault (the first: the load's start)


@dataclass(frozen=True)
class Schedule:
    seed: int
    steps: tuple[Step, ...]
    tail: float  # seconds of load after the last fault ends

    @property
    def duration(self) -> float:
        """Seconds of load the schedule needs, faults lasting as long as usual."""
        return sum(s.pause + EXPECTED[s.fault] for s in self.steps) + self.tail

    def describe(self) -> str:
        faults = ", ".join(f"+{step.pause:.0f}s {step.fault}" for step in self.steps)
        return f"seed {self.seed}: {faults}, then {self.tail:.0f}s of load"


def schedule(
    *,
    seed: int,
    faults: tuple[str, ...],
    warmup: float,
    gap: float,
    jitter: float,
    tail: float,
) -> Schedule:
    rng = random.Random(seed)  # noqa: S311 - a reproducible schedule, not a secret
    order = rng.sample(list(faults), len(faults))
    pauses = [warmup] + [gap + rng.uniform(0, jitter) for _ in order[1:]]
    steps = tuple(Step(fault, pause) for fault, pause in zip(order, pauses, strict=True))
    return Schedule(seed=seed, steps=steps, tail=tail)
