import threading
import time
import uuid

import pytest
import redis
from rest_framework.throttling import ScopedRateThrottle

from api.core.testing import assert_error
from api.core.throttling import window_count

pytestmark = pytest.mark.urls("api.core.tests.urls")


@pytest.fixture
def three_per_hour(monkeypatch):
    rates = {**ScopedRateThrottle.THROTTLE_RATES, "counted": "3/hour"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)


def test_the_counter_throttle_refuses_past_the_rate_until_the_window_ends(client, three_per_hour):
    for _ in range(3):
        assert client.get("/api/test/counted/").status_code == 200

    refused = client.get("/api/test/counted/")

    assert_error(refused, 429, "throttled")
    assert 1 <= int(refused["Retry-After"]) <= 3600


def test_the_counter_throttle_counts_each_client_address_apart(client, three_per_hour):
    for _ in range(3):
        client.get("/api/test/counted/", REMOTE_ADDR="10.0.0.1")

    assert client.get("/api/test/counted/", REMOTE_ADDR="10.0.0.2").status_code == 200
    assert client.get("/api/test/counted/", REMOTE_ADDR="10.0.0.1").status_code == 429


@pytest.fixture
def key():
    """A key no other test counted (the fallback counters live as long as the process)."""
    return f"test-{uuid.uuid4().hex}"


def test_window_count_counts_hits_of_a_key_in_redis(private_redis, key):
    assert window_count(key=key, window_seconds=3600) == 1
    assert window_count(key=key, window_seconds=3600) == 2
    assert window_count(key=key, window_seconds=3600, increment=False) == 2
    assert window_count(key="other", window_seconds=3600, increment=False) == 0
    # Shared by every process: the counter is in Redis.
    stored = redis.Redis.from_url(private_redis.url)
    assert [int(stored.get(key)) for key in stored.keys(f"vaultpay:{key}:*")] == [2]


@pytest.mark.parametrize("fault", ["kill", "freeze"])
def test_window_count_counts_in_the_process_when_redis_is_down_or_frozen(private_redis, key, fault):
    window_count(key=key, window_seconds=3600)  # counted in Redis, before the fault
    getattr(private_redis, fault)()

    started = time.monotonic()
    counts = [window_count(key=key, window_seconds=3600) for _ in range(3)]
    peek = window_count(key=key, window_seconds=3600, increment=False)

    assert counts == [1, 2, 3] and peek == 3
    assert time.monotonic() - started < 0.75  # one 250 ms timeout at most, then fail fast


def test_window_count_in_the_process_is_thread_safe(private_redis, key):
    private_redis.kill()

    def hit() -> None:
        for _ in range(200):
            window_count(key=key, window_seconds=3600)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert window_count(key=key, window_seconds=3600, increment=False) == 1600


@pytest.mark.parametrize("path", ["/api/test/counted/", "/api/test/anon-counted/"])
def test_throttles_keep_their_rate_while_redis_is_down(client, three_per_hour, private_redis, path):
    private_redis.kill()

    answers = [client.get(path).status_code for _ in range(3)]
    refused = client.get(path)

    assert answers == [200, 200, 200]
    assert_error(refused, 429, "throttled")
    assert 1 <= int(refused["Retry-After"]) <= 3600


def test_the_default_throttles_answer_while_redis_is_down(client, private_redis):
    private_redis.kill()

    assert client.get("/api/test/default-throttled/").status_code == 200
