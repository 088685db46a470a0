"""The time VaultPay stamps its rows with: `now()`.

It is `django.utils.timezone.now()`, except inside `clock_set(moment)`, where it is `moment`.
`manage.py seed_demo` uses that to produce demo activity over past days with the real
registration, accept and settlement code: every timestamp those write (users' date_joined,
accounts' updated_at, transfers' created_at and settled_at, ledger entries' and events'
created_at) comes from here, and no SQL default or SQL `now()` stamps them, so the rows are
written with the demo's moments and never edited afterwards.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_moment: ContextVar[datetime | None] = ContextVar("clock_moment", default=None)


def now() -> datetime:
    moment = _moment.get()
    return timezone.now() if moment is None else moment


@contextmanager
def clock_set(moment: datetime) -> Iterator[None]:
    """Within the block, in this thread (or task) only, `now()` is `moment` (timezone-aware).
    Real waits and deadlines (throttles, tokens, the sweep) keep the real time."""
    if timezone.is_naive(moment):
        raise ValueError("clock_set needs a timezone-aware moment")
    token = _moment.set(moment)
    try:
        yield
    finally:
        _moment.reset(token)
