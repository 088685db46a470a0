from collections.abc import Callable

from django.db import transaction


def on_commit_robust(func: Callable[[], object]) -> None:
    """`transaction.on_commit(func, robust=True)` for any callable: runs `func` after the
    current transaction commits (at once outside one); an error it raises is logged, and the
    commit stands.

    Django's log line names the callback by its `__qualname__`, which a functools.partial
    lacks; the logging itself would then raise AttributeError into the committing caller.
    """

    def run() -> None:
        func()

    # A partial is named after the function it wraps (its arguments may be large).
    named = getattr(func, "func", func)
    run.__qualname__ = getattr(named, "__qualname__", type(named).__name__)
    transaction.on_commit(run, robust=True)
