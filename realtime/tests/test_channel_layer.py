"""The channel layer's configuration (settings `channel_layers`)."""

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
