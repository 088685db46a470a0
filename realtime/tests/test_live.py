"""Live messages over Redis pub/sub (realtime.live): fan-out to a process's sockets, the inbox
limit, unsubscribing, a Redis restart, and cancellation of the subscriber's reader."""

import asyncio
import time

import pytest
import redis
from django.test import override_settings

from api.core.redis import redis_client
from api.core.tests.servers import RedisServer
from realtime.live import INBOX_LIMIT, Subscriber, publish, user_channel


class Listener:
    def __init__(self) -> None:
        self.inbox: asyncio.Queue = asyncio.Queue()

    def taken(self) -> list:
        return [self.inbox.get_nowait() for _ in range(self.inbox.qsize())]


async def until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def subscribers(url: str, channel: str) -> int:
    return redis.Redis.from_url(url).pubsub_numsub(channel)[0][1]


def test_a_publication_reaches_every_listening_socket_of_each_user_in_order(settings):
    alice, bob, carol = "alice-1", "bob-1", "carol-1"

    async def scenario():
        subscriber = Subscriber()
        alice_tabs, bob_tab = [Listener(), Listener()], Listener()
        for tab in alice_tabs:
            await subscriber.listen(alice, tab)
        await subscriber.listen(bob, bob_tab)
        await asyncio.to_thread(
            publish,
            [
                (alice, {"type": "balance.updated", "seq": 7}),
                (carol, {"type": "balance.updated", "seq": 1}),  # nobody listens: dropped
                (bob, {"type": "messages.batch", "messages": [{"seq": 1}, {"seq": 2}]}),
            ],
        )
        await asyncio.to_thread(publish, [(alice, {"type": "balance.updated", "seq": 8})])
        await until(lambda: all(tab.inbox.qsize() == 2 for tab in alice_tabs))
        await until(lambda: bob_tab.inbox.qsize() == 1)
        assert [tab.taken() for tab in alice_tabs] == 2 * [
            [{"type": "balance.updated", "seq": 7}, {"type": "balance.updated", "seq": 8}]
        ]
        assert bob_tab.taken() == [{"type": "messages.batch", "messages": [{"seq": 1}, {"seq": 2}]}]
        await subscriber.close()

    asyncio.run(scenario())


def test_an_inbox_past_its_limit_drops_further_live_messages():
    """A socket whose client reads too slowly stops queueing: it fills what it missed from
    the database once it catches up (realtime.consumers)."""

    async def scenario():
        subscriber, slow = Subscriber(), Listener()
        await subscriber.listen("slow-1", slow)
        batch = [("slow-1", {"type": "balance.updated", "seq": seq}) for seq in range(1, 101)]
        for _ in range(INBOX_LIMIT // 100 + 2):
            await asyncio.to_thread(publish, batch)
        await asyncio.sleep(0.5)
        await until(lambda: slow.inbox.qsize() == INBOX_LIMIT)
        await asyncio.sleep(0.3)
        assert slow.inbox.qsize() == INBOX_LIMIT
        await subscriber.close()

    asyncio.run(scenario())


def test_the_last_socket_of_a_user_unsubscribes(settings):
    channel = user_channel("dave-1")

    async def scenario():
        subscriber, first, second = Subscriber(), Listener(), Listener()
        await subscriber.listen("dave-1", first)
        await subscriber.listen("dave-1", second)
        await until(lambda: subscribers(settings.REDIS_URL, channel) == 1)
        subscriber.unlisten("dave-1", first)
        await asyncio.sleep(0.2)
        assert subscribers(settings.REDIS_URL, channel) == 1
        subscriber.unlisten("dave-1", second)
        await until(lambda: subscribers(settings.REDIS_URL, channel) == 0)
        await subscriber.close()

    asyncio.run(scenario())


@pytest.fixture
def private_redis(tmp_path):
    server = RedisServer(folder=tmp_path / "redis").start()
    with override_settings(REDIS_URL=server.url):
        redis_client.cache_clear()
        yield server
    redis_client.cache_clear()
    server.stop()


def test_after_a_redis_restart_the_subscriber_subscribes_again_and_forgets_who_left(
    private_redis,
):
    """Live messages flow again once Redis is back, without any socket reconnecting; a
    socket that left while Redis was down is unsubscribed once it is back."""
    stays, leaves = Listener(), Listener()

    async def scenario():
        subscriber = Subscriber()
        await subscriber.listen("erin-1", stays)
        await subscriber.listen("frank-1", leaves)
        private_redis.stop()
        with pytest.raises(redis.RedisError):
            await asyncio.to_thread(publish, [("erin-1", {"seq": 1})])
        subscriber.unlisten("frank-1", leaves)  # its UNSUBSCRIBE cannot reach Redis
        private_redis.start()
        deadline = time.monotonic() + 15
        while stays.inbox.empty():
            assert time.monotonic() < deadline, "no live message after the restart"
            await asyncio.sleep(1.1)  # past the publisher's fail-fast second
            try:
                await asyncio.to_thread(publish, [("erin-1", {"seq": 2})])
            except redis.RedisError:
                continue
            await asyncio.sleep(0.2)
        assert stays.taken()[0] == {"seq": 2}
        assert subscribers(private_redis.url, user_channel("erin-1")) == 1
        await until(lambda: subscribers(private_redis.url, user_channel("frank-1")) == 0)
        assert leaves.inbox.empty()
        await subscriber.close()

    asyncio.run(scenario())


def test_closing_ends_the_reader_wherever_the_cancellation_lands():
    """The reader is cancelled at each step of its Redis calls in turn and must end. One that
    polled on instead (redis-py's write lost the cancellation, realtime/redis.py) kept the
    event loop's shutdown, and so a stopping server, waiting for ever."""

    async def ends(steps: int) -> bool:
        subscriber = Subscriber()
        await subscriber.listen("gina-1", Listener())
        for _ in range(steps):
            await asyncio.sleep(0)
        try:
            await asyncio.wait_for(subscriber.close(), timeout=2)
        except TimeoutError:
            return False
        return True

    async def scenario() -> list[int]:
        return [steps for steps in range(40) if not await ends(steps)]

    assert asyncio.run(scenario()) == []
