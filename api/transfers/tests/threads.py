"""Real concurrency for transactional tests: threads with their own database connections."""

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db import connections

T = TypeVar("T")


def run_concurrently(calls: Sequence[Callable[[], T]], *, threads: int) -> list[T]:
    """Runs `calls` on `threads` threads (call i on thread i % threads), all released at once
    by a barrier, and returns their results in call order. Each thread opens its own database
    connection (Django's are per thread) and closes it when done. Re-raises the first error."""
    results: list = [None] * len(calls)
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work(first: int) -> None:
        try:
            barrier.wait(timeout=30)
            for index in range(first, len(calls), threads):
                results[index] = calls[index]()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    if any(worker.is_alive() for worker in workers):
        raise TimeoutError("threads still running after 120 s")
    if errors:
        raise errors[0]
    return results
