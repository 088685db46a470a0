"""on_commit_robust: a failing callback, even a functools.partial, is logged and never reaches
the caller that committed."""

from functools import partial

import pytest
from django.db import transaction

from api.core.transactions import on_commit_robust

pytestmark = pytest.mark.django_db(transaction=True)


def fail(reason: str) -> None:
    raise ConnectionError(reason)


def test_a_failing_partial_is_logged_after_the_commit_not_raised(caplog):
    ran = []
    with transaction.atomic():
        on_commit_robust(partial(fail, "redis down"))
        on_commit_robust(lambda: ran.append(True))

    assert ran == [True]  # later callbacks still run
    assert "Error calling fail in on_commit() during transaction" in caplog.text


def test_outside_a_transaction_it_runs_at_once_and_logs_a_failure(caplog):
    on_commit_robust(partial(fail, "redis down"))

    assert "Error calling fail in on_commit()" in caplog.text
