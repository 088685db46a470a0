"""The PostgreSQL backend's health check: skipped on a connection used within the last second,
still made on an idle one, where it replaces a connection the server dropped."""

import time

import psycopg2
import pytest
from django.conf import settings
from django.db import OperationalError, connection

from api.core.postgresql.base import RECENTLY_USED_SECONDS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def checks(monkeypatch) -> list[bool]:
    """Each health check the connection makes, with its result."""
    made = []
    is_usable = connection.is_usable

    def counted() -> bool:
        made.append(is_usable())
        return made[-1]

    monkeypatch.setattr(connection, "is_usable", counted)
    return made


def new_request() -> None:
    connection.close_if_unusable_or_obsolete()  # what Django does as a request starts


def query() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(backend_pid: int) -> None:
    """Ends a server process, as a database restart or a dropped network would."""
    admin = psycopg2.connect(dbname=settings.DATABASES["default"]["NAME"], host="127.0.0.1",
                             user="postgres")  # fmt: skip
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
    admin.close()


def test_a_recently_used_connection_is_not_checked(checks):
    assert connection.health_check_enabled
    query()
    new_request()

    query()

    assert checks == []


def test_an_idle_connection_dropped_by_the_server_is_replaced(checks):
    dropped = query()
    _terminate(dropped)
    new_request()
    connection._used_at = time.monotonic() - RECENTLY_USED_SECONDS - 0.1

    replacement = query()

    assert checks == [False]
    assert replacement != dropped


def test_a_connection_dropped_while_in_use_is_replaced_at_the_next_request(checks):
    dropped = query()
    _terminate(dropped)
    with pytest.raises(OperationalError):
        query()  # the outage, as a request sees it: a 503
    new_request()  # moments later: the failed connection is not trusted

    replacement = query()

    assert replacement != dropped
