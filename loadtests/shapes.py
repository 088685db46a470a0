"""Load shapes for the open-loop users: when the i-th request is due.

An open loop sends on a schedule fixed before the run, whether or not earlier requests have
answered, so a slow period shows up as latency (measured from the due moment) and as drops,
instead of silently lowering the offered rate as a closed loop would (coordinated omission).
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class RampThenConstant:
    """Rises linearly from 0 to `rate` requests/s over `ramp` seconds, then holds `rate`
    until `duration` seconds after the start. `ramp=0` is a constant rate."""

    rate: float
    duration: float
    ramp: float = 0.0

    def due(self, i: int) -> float:
        """Seconds after the start at which request i (0, 1, ...) is due."""
        ramped = self.rate * self.ramp / 2  # requests sent during the ramp
        if i < ramped:
            return math.sqrt(2 * i * self.ramp / self.rate)
        return self.ramp + (i - ramped) / self.rate

    @property
    def total(self) -> int:
        """How many requests the shape offers in all."""
        if self.duration <= self.ramp:
            return int(self.rate * self.duration**2 / (2 * self.ramp))
        return int(self.rate * self.ramp / 2 + self.rate * (self.duration - self.ramp))

    def __str__(self) -> str:
        ramp = f", rising over the first {self.ramp:g} s" if self.ramp else ""
        return f"{self.rate:g}/s open loop for {self.duration:g} s{ramp}"
