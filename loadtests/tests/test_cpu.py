"""The CPU meter of the benchmark reports on this machine's real processes."""

import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from loadtests.cpu import CpuMeter


def meter_started() -> CpuMeter:
    # No live backend matches this database name: only ended ones can count.
    meter = CpuMeter(SimpleNamespace(components={}, database="no-such-database"))
    meter.start()
    return meter


def busy_backend():
    """A connection whose backend has spent about half a second of CPU."""
    backend = connections.create_connection(DEFAULT_DB_ALIAS)
    with backend.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM generate_series(1, 5000000)")
    return backend


@pytest.mark.django_db
def test_a_backend_that_ended_during_the_measurement_counts_for_postgresql():
    meter = meter_started()
    busy_backend().close()  # the backend exits; the postmaster reaps it

    deadline = time.monotonic() + 10
    while (spent := meter.read().parts.get("PostgreSQL", 0.0)) < 0.1:
        assert time.monotonic() < deadline, f"PostgreSQL counted {spent:.3f} s"
        time.sleep(0.1)


@pytest.mark.django_db
def test_what_an_ended_backend_spent_before_the_measurement_is_not_counted():
    backend = busy_backend()
    pid = backend.connection.get_backend_pid()
    meter = meter_started()
    backend.close()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists():  # until the postmaster has reaped it
        assert time.monotonic() < deadline, "the backend did not end"
        time.sleep(0.05)

    assert meter.read().parts.get("PostgreSQL", 0.0) < 0.1
