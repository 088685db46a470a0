"""The channel layer's configuration (settings `channel_layers`)."""

import asyncio

from channels.layers import get_channel_layer


def test_reads_outlast_the_blocking_receive():
    """channels-redis receives with BZPOPMIN blocking up to `brpop_timeout` (5 s); a read
    timeout no longer than that kills the socket's consumer whenever the reply is late."""
    layer = get_channel_layer()
    pool = layer.create_pool(0)
    assert pool.connection_kwargs["socket_timeout"] >= 6 * layer.brpop_timeout


def test_capacity_and_expiry_are_set_deliberately():
    layer = get_channel_layer()
    assert (layer.capacity, layer.expiry) == (2000, 10)


def test_a_cancelled_receive_ends_wherever_the_cancellation_lands():
    """A receive is cancelled at each step of its Redis calls in turn, and must end cancelled.
    One that polled on instead (redis-py's write lost the cancellation, realtime/redis.py)
    kept its consumer, and the event loop's shutdown, waiting for ever."""
    layer = get_channel_layer()

    async def ends_cancelled(steps: int) -> bool:
        receive = asyncio.ensure_future(layer.receive(await layer.new_channel()))
        for _ in range(steps):
            await asyncio.sleep(0)
        receive.cancel()
        done, _ = await asyncio.wait([receive], timeout=2)
        while not receive.done():  # one that polls on: cancel until it ends, to finish the test
            receive.cancel()
            await asyncio.wait([receive], timeout=0.1)
        return bool(done) and receive.cancelled()

    async def scenario() -> list[int]:
        return [steps for steps in range(40) if not await ends_cancelled(steps)]

    assert asyncio.run(scenario()) == []
