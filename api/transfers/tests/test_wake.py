"""The after-commit wake-up of a settlement partition, from a request: bounded in time and
silent when Redis or the broker is down, frozen or restarted (the sweep covers a lost one)."""

import time

import pytest
import redis

from api.config import celery
from api.core.tests.servers import RedisServer
from api.transfers.partitions import partition_wake
from api.transfers.tests.helpers import BROKER_QUEUE

PARTITION = 3
FLAG = f"vaultpay:settle:awake:{PARTITION}"


@pytest.fixture
def broker(tmp_path, private_redis):
    """A broker of the test's own, apart from Redis (so either can fail alone)."""
    folder = tmp_path / "broker"
    folder.mkdir()
    server = RedisServer(folder=folder).start()
    url = celery.app.conf.broker_url
    celery.app.conf.broker_url = server.url
    celery._request_producers.cache_clear()
    yield server
    server.stop()
    celery.app.conf.broker_url = url
    celery._request_producers.cache_clear()


def timed_wake() -> float:
    started = time.monotonic()
    partition_wake(partition=PARTITION)
    return time.monotonic() - started


def test_a_wake_up_sets_the_flag_and_publishes_one_task(private_redis, broker):
    timed_wake()
    timed_wake()  # already awake: publishes nothing

    assert redis.Redis.from_url(private_redis.url).exists(FLAG)
    assert redis.Redis.from_url(broker.url).llen(BROKER_QUEUE) == 1


@pytest.mark.parametrize("fault", ["kill", "freeze"])
def test_a_wake_up_the_broker_cannot_take_returns_at_once_and_clears_its_flag(
    private_redis, broker, fault
):
    getattr(broker, fault)()

    seconds = timed_wake()

    assert seconds < 0.75  # one 250 ms timeout at most, and margin
    assert not redis.Redis.from_url(private_redis.url).exists(FLAG)


@pytest.mark.parametrize("fault", ["kill", "freeze"])
def test_a_wake_up_without_redis_returns_at_once(private_redis, broker, fault):
    getattr(private_redis, fault)()

    assert timed_wake() < 0.75
    assert redis.Redis.from_url(broker.url).llen(BROKER_QUEUE) == 0


def test_a_wake_up_after_the_broker_restarted_publishes_on_a_new_connection(private_redis, broker):
    timed_wake()  # the producer's connection is open
    redis.Redis.from_url(private_redis.url).delete(FLAG)
    broker.kill()
    broker.start()  # empty, on the same port: the pooled connection is stale

    timed_wake()

    assert redis.Redis.from_url(broker.url).llen(BROKER_QUEUE) == 1
