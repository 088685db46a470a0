import pytest
from django.db import connections
from django.test import Client


@pytest.fixture
def crash_client():
    """A client that returns the 500 response, as a real server would, instead of re-raising
    the view's exception into the test."""
    return Client(raise_request_exception=False)


@pytest.fixture
def database_unreachable():
    """Points the default database alias at a closed port: every query fails to connect, as
    when PostgreSQL is down. The test's own connection is put back afterwards."""
    live = connections["default"]
    down = live.__class__({**live.settings_dict, "HOST": "127.0.0.1", "PORT": "1"}, "default")
    connections["default"] = down
    yield
    down.close()
    connections["default"] = live
