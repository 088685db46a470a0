"""The hot path's stateless JWT authentication: each distinct token verified once per process,
expiry checked on every use, bad tokens never remembered."""

import uuid
from datetime import timedelta
from unittest.mock import patch

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import aware_utcnow

from api.core.authentication import CachedJwtStatelessAuthentication


def request_with(token: str):
    return APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")


def new_token() -> str:
    token = AccessToken()
    token["user_id"] = str(uuid.uuid4())
    return str(token)


@pytest.fixture
def decodes():
    """How many times a token signature was checked."""
    calls = []
    decode = TokenBackend.decode

    def counted(self, token, verify=True):
        calls.append(token)
        return decode(self, token, verify)

    with patch.object(TokenBackend, "decode", counted):
        yield calls


def test_a_token_is_verified_once_and_then_recognised(decodes):
    token = new_token()

    users = [CachedJwtStatelessAuthentication().authenticate(request_with(token)) for _ in "abc"]

    assert len(decodes) == 1
    assert len({str(user.id) for user, _ in users}) == 1


def test_a_remembered_token_is_refused_once_it_expires():
    token = new_token()
    CachedJwtStatelessAuthentication().authenticate(request_with(token))
    later = aware_utcnow() + timedelta(minutes=16)

    with (
        patch("api.core.authentication.aware_utcnow", return_value=later),
        pytest.raises(InvalidToken),
    ):
        CachedJwtStatelessAuthentication().authenticate(request_with(token))


def test_a_forged_token_is_refused_every_time(decodes):
    header, payload, signature = new_token().split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"

    for _ in range(2):
        with pytest.raises(InvalidToken):
            CachedJwtStatelessAuthentication().authenticate(request_with(forged))

    assert len(decodes) == 2
