"""The CPU meter of the benchmark reports on this machine's real processes."""

import time
from types import SimpleNamespace

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from loadtests.cpu import CpuMeter


@pytest.mark.django_db
def test_a_backend_that_ended_during_the_measurement_counts_for_postgresql():
    # No live backend matches this database name: only ended ones can count.
    meter = CpuMeter(SimpleNamespace(components={}, database="no-such-database"))
    meter.start()
    backend = connections.create_connection(DEFAULT_DB_ALIAS)
    with backend.cursor() as cursor:  # about half a second of one backend's CPU
        cursor.execute("SELECT count(*) FROM generate_series(1, 5000000)")
    backend.close()  # the backend exits; the postmaster reaps it

    deadline = time.monotonic() + 10
    while (spent := meter.read().parts.get("PostgreSQL", 0.0)) < 0.1:
        assert time.monotonic() < deadline, f"PostgreSQL counted {spent:.3f} s"
        time.sleep(0.1)
