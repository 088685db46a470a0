import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_redis_cache():
    """Throttle counters live in the Redis cache; each test starts without any."""
    cache.clear()
    yield
