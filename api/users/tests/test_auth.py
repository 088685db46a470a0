from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from api.core.testing import assert_error
from api.users.tests.conftest import PASSWORD, bearer

pytestmark = pytest.mark.django_db

LOGIN = "/api/users/login/"
REFRESH = "/api/users/token/refresh/"
LOGOUT = "/api/users/logout/"
PROFILE = "/api/users/profile/"


def test_login_returns_tokens_and_the_masked_user(client, make_user):
    user = make_user(email="asha@example.in", aadhaar="2345 6789 0124")

    response = client.post(LOGIN, {"email": "Asha@Example.in", "password": PASSWORD})

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh", "user"}
    assert body["user"]["id"] == str(user.pk)
    assert body["user"]["aadhaar_masked"] == "XXXX XXXX 0124"
    assert AccessToken(body["access"])["user_id"] == str(user.pk)
    assert RefreshToken(body["refresh"])["user_id"] == str(user.pk)


def test_login_failures_are_indistinguishable(client, make_user):
    make_user(email="asha@example.in")
    inactive = make_user(email="gone@example.in")
    inactive.is_active = False
    inactive.save()

    responses = [
        client.post(LOGIN, {"email": "nobody@example.in", "password": PASSWORD}),
        client.post(LOGIN, {"email": "asha@example.in", "password": "wrong-horse-42"}),
        client.post(LOGIN, {"email": "gone@example.in", "password": PASSWORD}),
    ]

    errors = [assert_error(response, 401, "invalid_credentials") for response in responses]
    for error in errors:
        del error["request_id"]
    assert errors[0] == errors[1] == errors[2]
    headers = [{k for k in r.headers if k != "X-Request-ID"} for r in responses]
    assert headers[0] == headers[1] == headers[2]


@pytest.mark.parametrize("password", [12345678, True, ["x"]])
def test_a_password_that_is_no_json_string_is_refused_not_turned_into_one(
    client, make_user, password
):
    make_user(email="asha@example.in")

    response = client.post(
        LOGIN, {"email": "asha@example.in", "password": password}, content_type="application/json"
    )

    assert_error(response, 400, "validation_error", {"password": ["Not a valid string."]})


def test_profile_shows_the_caller(client, make_user, login):
    user = make_user(phone="")
    access = login(user.email)["access"]

    response = client.get(PROFILE, **bearer(access))

    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.pk),
        "email": user.email,
        "full_name": "Asha Rao",
        "phone": None,
        "aadhaar_masked": f"XXXX XXXX {user.aadhaar_last4}",
        "is_staff": False,
        "date_joined": user.date_joined.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def test_profile_needs_a_token(client):
    assert_error(client.get(PROFILE), 401, "not_authenticated")


def test_an_expired_access_token_is_401(client, make_user):
    token = AccessToken.for_user(make_user())
    token.set_exp(from_time=timezone.now() - timedelta(hours=1))

    response = client.get(PROFILE, **bearer(str(token)))

    assert_error(response, 401, "token_not_valid")


def test_a_refresh_token_is_no_access_token(client, make_user, login):
    refresh = login(make_user().email)["refresh"]

    assert_error(client.get(PROFILE, **bearer(refresh)), 401, "token_not_valid")


def test_refresh_rotates_and_the_old_refresh_token_dies(client, make_user, login):
    user = make_user()
    old = login(user.email)["refresh"]

    response = client.post(REFRESH, {"refresh": old})

    assert response.status_code == 200, response.content
    pair = response.json()
    assert set(pair) == {"access", "refresh"} and pair["refresh"] != old
    assert client.get(PROFILE, **bearer(pair["access"])).status_code == 200
    assert_error(client.post(REFRESH, {"refresh": old}), 401, "token_not_valid")
    assert client.post(REFRESH, {"refresh": pair["refresh"]}).status_code == 200


@pytest.mark.parametrize("token", ["garbage", "a.b.c"])
def test_a_malformed_refresh_token_is_401(client, token):
    assert_error(client.post(REFRESH, {"refresh": token}), 401, "token_not_valid")


def test_a_missing_refresh_token_is_400(client):
    response = client.post(REFRESH, {})

    assert_error(response, 400, "validation_error", {"refresh": ["This field is required."]})


def test_an_expired_refresh_token_is_401(client, make_user):
    token = RefreshToken.for_user(make_user())
    token.set_exp(from_time=timezone.now() - timedelta(days=8))

    assert_error(client.post(REFRESH, {"refresh": str(token)}), 401, "token_not_valid")


def test_an_access_token_cannot_refresh(client, make_user, login):
    access = login(make_user().email)["access"]

    assert_error(client.post(REFRESH, {"refresh": access}), 401, "token_not_valid")


def test_refresh_for_an_inactive_user_is_401(client, make_user, login):
    user = make_user()
    refresh = login(user.email)["refresh"]
    user.is_active = False
    user.save()

    assert_error(client.post(REFRESH, {"refresh": refresh}), 401, "token_not_valid")


def test_logout_kills_the_refresh_token(client, make_user, login):
    tokens = login(make_user().email)

    response = client.post(LOGOUT, {"refresh": tokens["refresh"]}, **bearer(tokens["access"]))

    assert response.status_code == 205
    assert response.content == b""
    assert_error(client.post(REFRESH, {"refresh": tokens["refresh"]}), 401, "token_not_valid")
    again = client.post(LOGOUT, {"refresh": tokens["refresh"]}, **bearer(tokens["access"]))
    assert_error(again, 401, "token_not_valid")


def test_logout_leaves_other_sessions_alone(client, make_user, login):
    user = make_user()
    first, second = login(user.email), login(user.email)

    client.post(LOGOUT, {"refresh": first["refresh"]}, **bearer(first["access"]))

    assert client.post(REFRESH, {"refresh": second["refresh"]}).status_code == 200


def test_logout_with_another_users_token_is_403_and_keeps_it(client, make_user, login):
    mine = login(make_user().email)
    theirs = login(make_user().email)

    response = client.post(LOGOUT, {"refresh": theirs["refresh"]}, **bearer(mine["access"]))

    assert_error(response, 403, "token_not_owned")
    assert client.post(REFRESH, {"refresh": theirs["refresh"]}).status_code == 200


def test_logout_needs_authentication(client, make_user, login):
    refresh = login(make_user().email)["refresh"]

    assert_error(client.post(LOGOUT, {"refresh": refresh}), 401, "not_authenticated")
    assert client.post(REFRESH, {"refresh": refresh}).status_code == 200


def test_login_is_throttled(client, make_user, throttle):
    throttle("login", "2/hour")
    user = make_user()
    for _ in range(2):
        client.post(LOGIN, {"email": user.email, "password": "wrong-horse-42"})

    response = client.post(LOGIN, {"email": user.email, "password": PASSWORD})

    assert_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 3600
