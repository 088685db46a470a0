"""POST /api/realtime/ticket/."""

import pytest
from asgiref.sync import async_to_sync
from rest_framework.test import APIClient

from api.core.redis import redis_client
from api.core.testing import assert_error
from api.core.throttling import ScopedCounterThrottle
from api.transfers.tests.helpers import client_of
from realtime.auth import _key, ticket_consume

pytestmark = pytest.mark.django_db

URL = "/api/realtime/ticket/"


def test_a_user_gets_a_single_use_ticket_for_30_seconds_and_the_socket_url(make_wallet):
    wallet = make_wallet()

    response = client_of(wallet).post(URL)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"ticket", "expires_in", "url"}
    assert body["expires_in"] == 30
    assert 29 <= redis_client().ttl(_key(body["ticket"])) <= 30
    assert body["url"] == "ws://testserver:8001/ws/notifications/"
    consume = async_to_sync(ticket_consume)
    assert consume(ticket=body["ticket"]) == str(wallet.user_id)
    assert consume(ticket=body["ticket"]) is None


@pytest.mark.parametrize(
    ("host", "secure", "url"),
    [
        ("127.0.0.1:8000", False, "ws://127.0.0.1:9100/ws/notifications/"),
        ("localhost", False, "ws://localhost:9100/ws/notifications/"),
        ("[::1]:8000", True, "wss://[::1]:9100/ws/notifications/"),
    ],
)
def test_the_url_is_the_request_host_on_ws_port(host, secure, url, make_wallet, settings):
    settings.WS_PORT = 9100
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

    response = client_of(make_wallet()).post(URL, HTTP_HOST=host, secure=secure)

    assert response.json()["url"] == url


def test_a_public_url_when_configured(make_wallet, settings):
    settings.WS_PUBLIC_URL = "wss://pay.example/ws/notifications/"

    response = client_of(make_wallet()).post(URL)

    assert response.json()["url"] == "wss://pay.example/ws/notifications/"


def test_tickets_need_an_active_user(make_wallet):
    assert_error(APIClient().post(URL), 401, "not_authenticated")
    wallet = make_wallet()
    client = client_of(wallet)
    wallet.user.is_active = False
    wallet.user.save(update_fields=["is_active"])
    assert client.post(URL).status_code == 401


def test_tickets_are_throttled_per_user(make_wallet, monkeypatch):
    rates = {**ScopedCounterThrottle.THROTTLE_RATES, "ticket": "2/min"}
    monkeypatch.setattr(ScopedCounterThrottle, "THROTTLE_RATES", rates)
    client = client_of(make_wallet())

    assert [client.post(URL).status_code for _ in range(2)] == [200, 200]
    response = client.post(URL)

    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert client_of(make_wallet()).post(URL).status_code == 200
