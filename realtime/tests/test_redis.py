"""The socket server's Redis connections (realtime.redis)."""

import pytest
from redis import asyncio as aioredis

from realtime.redis import WritesKeepCancellation, connection_class


@pytest.mark.parametrize(
    ("url", "transport"),
    [
        ("redis://127.0.0.1:6379/0", aioredis.Connection),
        ("rediss://redis.example:6380/0", aioredis.SSLConnection),
        ("unix:///run/redis.sock?db=0", aioredis.UnixDomainSocketConnection),
    ],
)
def test_the_connection_class_keeps_the_urls_transport(url, transport):
    chosen = connection_class(url)
    assert issubclass(chosen, transport)
    assert issubclass(chosen, WritesKeepCancellation)
