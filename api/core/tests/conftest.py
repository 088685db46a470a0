import pytest
from django.db import connections
from django.test import Client

from api.core.redis import redis_client
from api.core.tests.servers import RedisServer


@pytest.fixture
def crash_client():
    """A client that returns the 500 response, as a real server would, instead of re-raising
    the view's exception into the test."""
    return Client(raise_request_exception=False)


@pytest.fixture
def private_redis(tmp_path, settings):
    """A redis-server of this test's own, used by the process's Redis client
    (api.core.redis) and Django's cache for the test; the test may kill or freeze it."""
    server = RedisServer(folder=tmp_path).start()
    settings.REDIS_URL = server.url
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": server.url},
    }
    redis_client.cache_clear()
    yield server
    server.stop()
    redis_client.cache_clear()


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
