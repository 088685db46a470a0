import pytest
from rest_framework.throttling import ScopedRateThrottle

from api.core.testing import assert_error

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
