"""The per-account limit on failed logins (THROTTLE_LOGIN_FAILURES, DRF rate syntax).

Failures are counted per submitted email, normalised as login matches it, from any client
address, so spreading guesses over many addresses does not help. An email that reached the
limit is refused until its window ends, before the password is looked at. Unknown emails are
counted the same way, so the answer never tells whether an account exists. Redis holds a
keyed hash of the email, never the address itself.
"""

import time

from django.utils.crypto import salted_hmac
from rest_framework.throttling import ScopedRateThrottle

from api.core.throttling import window_count
from api.users.models import email_normalize

SCOPE = "login_failures"


def _limit() -> tuple[int | None, int | None]:
    # The rates as every scoped throttle reads them (tests override them there too).
    return ScopedRateThrottle().parse_rate(ScopedRateThrottle.THROTTLE_RATES.get(SCOPE))


def _key(email: str) -> str:
    digest = salted_hmac("vaultpay.login_failures", email_normalize(email)).hexdigest()
    return f"throttle_{SCOPE}_{digest}"


def login_failures_wait(*, email: str) -> float | None:
    """Seconds until the email's window ends when it has used up its failures, else None."""
    limit, window = _limit()
    if limit is None or window_count(key=_key(email), window_seconds=window, increment=False) < (
        limit
    ):
        return None
    return window - time.time() % window


def login_failure_record(*, email: str) -> None:
    """Counts one failed login for the email."""
    limit, window = _limit()
    if limit is not None:
        window_count(key=_key(email), window_seconds=window)
