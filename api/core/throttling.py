import functools
import time

from redis.commands.core import Script
from rest_framework.throttling import ScopedRateThrottle

from api.core.redis import redis_client

# Counts a request in its window; the window's first request sets when the counter expires.
WINDOW_COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


@functools.cache
def _window_count() -> Script:
    return redis_client().register_script(WINDOW_COUNT)


def window_count(*, key: str, window_seconds: int, increment: bool = True) -> int:
    """Hits on `key` in the current fixed window of `window_seconds`, counting this one first
    when `increment`; the counter expires with its window."""
    counter = f"vaultpay:{key}:{int(time.time() // window_seconds)}"
    if increment:
        return _window_count()(keys=[counter], args=[window_seconds])
    return int(redis_client().get(counter) or 0)


class ScopedCounterThrottle(ScopedRateThrottle):
    """ScopedRateThrottle's scopes, rates and client keys, counted in fixed windows: one Redis
    command per request (a script that counts and sets the window's expiry).

    DRF's sliding window reads and rewrites a pickled list of every request time in the window
    through the cache, which measured 0.8 ms of CPU per request on the transfer hot path. The
    price: a burst straddling two windows may briefly pass up to twice the rate.

    A view that already counted a request itself (a hot path falling back to the full one)
    marks it `throttle_counted`, so it is counted once.
    """

    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope or getattr(request, "throttle_counted", False):
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        count = window_count(key=self.get_cache_key(request, view), window_seconds=self.duration)
        self.seconds_left = self.duration - self.timer() % self.duration
        return count <= self.num_requests

    def wait(self) -> float:
        return self.seconds_left
