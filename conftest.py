import io
import json
import logging

import pytest
import structlog
from django.core.cache import cache

from api.core.logs import StderrLines, logging_config, structlog_configure
from api.core.redis import redis_client
from api.core.tests.servers import RedisServer
from api.transfers.backlog import backlog_watch_stop


@pytest.fixture(autouse=True)
def _fresh_redis_cache():
    """Throttle counters live in the Redis cache; each test starts without any."""
    cache.clear()
    yield


@pytest.fixture
def private_redis(tmp_path, settings):
    """A redis-server of this test's own, used for the test by the process's Redis client
    (api.core.redis), Django's cache and every process the test starts; the test may kill,
    freeze or restart it."""
    server = RedisServer(folder=tmp_path).start()
    settings.REDIS_URL = server.url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
    redis_client.cache_clear()
    yield server
    server.stop()
    redis_client.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def _backlog_watch_stopped(django_db_setup):
    """The backlog watcher's connection is closed before the test database is dropped."""
    yield
    backlog_watch_stop()


@pytest.fixture
def log_lines():
    """log_lines() -> every line this process logged since the test began (DEBUG and up),
    ours and the standard library's, as the JSON objects LOG_FORMAT=json writes."""
    stream = io.StringIO()

    class Lines(StderrLines):
        def msg(self, message: str) -> None:
            stream.write(message + "\n")

        debug = info = warning = error = critical = exception = msg

    saved = structlog.get_config()
    config = logging_config(log_format="json", level="DEBUG", cache_loggers=False)
    options = dict(config["formatters"]["structlog"])
    handler = logging.StreamHandler(stream)
    handler.setFormatter(options.pop("()")(**options))
    structlog_configure(log_format="json", level="DEBUG", cache_loggers=False, logger_factory=Lines)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)
    structlog.configure(**saved)
