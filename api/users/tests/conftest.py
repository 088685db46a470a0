import secrets

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from api.users import aadhaar
from api.users.services import user_register

PASSWORD = "correct-horse-42"


@pytest.fixture
def client() -> APIClient:
    client = APIClient()
    client.default_format = "json"  # the API parses JSON only
    return client


@pytest.fixture
def registration():
    """A valid registration body with a fresh Aadhaar number on each call."""

    def make(**overrides) -> dict:
        number = aadhaar.generate()
        body = {
            "email": f"user-{secrets.token_hex(4)}@example.in",
            "password": PASSWORD,
            "full_name": "Asha Rao",
            "phone": "+919876543210",
            "aadhaar": aadhaar.spaced(number),
        }
        return {**body, **overrides}

    return make


@pytest.fixture
def make_user(registration):
    """Registers a user through the service (wallet and welcome credit included)."""

    def make(**overrides):
        return user_register(**registration(**overrides))

    return make


@pytest.fixture
def login(client):
    """Logs in over the API and returns the JSON body ({access, refresh, user})."""

    def do(email: str, password: str = PASSWORD) -> dict:
        response = client.post("/api/users/login/", {"email": email, "password": password})
        assert response.status_code == 200, response.content
        return response.json()

    return do


def bearer(access: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {access}"}


@pytest.fixture
def throttle(monkeypatch):
    """Sets one scope's rate for the test; test settings make every rate generous.

    ScopedRateThrottle copies the rates at import, so overriding settings would not reach it.
    """

    def set_rate(scope: str, rate: str) -> None:
        rates = {**ScopedRateThrottle.THROTTLE_RATES, scope: rate}
        monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)

    return set_rate
