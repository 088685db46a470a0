"""Guessing passwords: failed logins are limited per account (from any address), and the
admin's sign-in attempts per client address."""

import secrets

import pytest
from django.test import Client

from api.core.redis import redis_client
from api.core.testing import assert_error
from api.users import services
from api.users.services import user_staff_create
from api.users.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/users/login/"


@pytest.fixture
def three_failures(throttle):
    throttle("login_failures", "3/hour")


@pytest.fixture
def authenticate_calls(monkeypatch):
    """Records every credential check that login makes."""
    calls = []
    real = services.authenticate

    def spy(**credentials):
        calls.append(credentials["email"])
        return real(**credentials)

    monkeypatch.setattr(services, "authenticate", spy)
    return calls


def login(client, email: str, password: str, address: str = "127.0.0.1"):
    return client.post(LOGIN, {"email": email, "password": password}, REMOTE_ADDR=address)


def assert_locked(response) -> dict:
    error = assert_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 3600
    return error


def test_failures_for_an_email_lock_it_from_every_address(
    client, make_user, three_failures, authenticate_calls
):
    user = make_user()
    for number in range(3):
        response = login(client, user.email, "wrong-horse-42", address=f"10.0.0.{number}")
        assert_error(response, 401, "invalid_credentials")
    checked = len(authenticate_calls)

    locked = login(client, user.email, PASSWORD, address="10.9.9.9")

    assert_locked(locked)
    assert "access" not in locked.json()
    assert len(authenticate_calls) == checked  # refused without looking at the password


def test_the_lock_keys_on_the_email_as_login_matches_it(client, make_user, three_failures):
    user = make_user()
    for variant in [user.email.upper(), f"  {user.email}", user.email.title()]:
        assert login(client, variant, "wrong-horse-42").status_code == 401

    assert_locked(login(client, user.email, PASSWORD))


def test_other_accounts_and_successful_logins_are_not_counted(client, make_user, three_failures):
    user, other = make_user(), make_user()
    for _ in range(5):
        assert login(client, user.email, PASSWORD).status_code == 200
    for _ in range(3):
        login(client, other.email, "wrong-horse-42")

    assert login(client, user.email, PASSWORD).status_code == 200
    assert_locked(login(client, other.email, PASSWORD))


def test_unknown_emails_are_locked_exactly_like_accounts(client, make_user, three_failures):
    known = make_user().email
    unknown = f"nobody-{secrets.token_hex(4)}@example.in"
    answers = {}
    for email in (known, unknown):
        answers[email] = [login(client, email, "wrong-horse-42") for _ in range(4)]

    def shape(response):
        body = response.json()["error"]
        return response.status_code, body["code"], body["fields"], "Retry-After" in response

    assert [shape(r) for r in answers[known]] == [shape(r) for r in answers[unknown]]
    assert [r.status_code for r in answers[unknown]] == [401, 401, 401, 429]


def test_redis_holds_no_email_address(client, three_failures):
    email = f"private-{secrets.token_hex(4)}@example.in"
    login(client, email, "wrong-horse-42")

    keys = [key.decode() for key in redis_client().scan_iter("*login_failures*")]
    assert len(keys) == 1
    assert "private" not in keys[0] and "example" not in keys[0]


@pytest.fixture
def staff():
    return user_staff_create(
        email=f"staff-{secrets.token_hex(4)}@vaultpay.in",
        password="staff-horse-42",
        full_name="Root",
        aadhaar="2345 6789 0124",
    )


def admin_sign_in(client: Client, email: str, password: str, address: str = "10.1.1.1"):
    return client.post(
        "/admin/login/", {"username": email, "password": password}, REMOTE_ADDR=address
    )


def test_admin_sign_in_attempts_are_throttled_per_address(staff, throttle):
    throttle("admin_login", "2/hour")
    client = Client()
    for _ in range(2):
        assert admin_sign_in(client, staff.email, "wrong-horse-42").status_code == 200  # form

    refused = admin_sign_in(client, staff.email, "staff-horse-42")

    assert_error(refused, 429, "throttled")
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert "sessionid" not in refused.cookies
    assert client.get("/admin/login/", REMOTE_ADDR="10.1.1.1").status_code == 200
    signed_in = admin_sign_in(client, staff.email, "staff-horse-42", address="10.2.2.2")
    assert signed_in.status_code == 302


def test_admin_sign_in_failures_share_the_per_account_limit(client, staff, three_failures):
    admin = Client()
    assert login(client, staff.email, "wrong-horse-42").status_code == 401
    for number in range(2):
        failed = admin_sign_in(admin, staff.email.upper(), "wrong-horse-42", f"10.3.0.{number}")
        assert failed.status_code == 200

    assert_locked(admin_sign_in(admin, staff.email, "staff-horse-42", address="10.3.9.9"))
    assert_locked(login(client, staff.email, "staff-horse-42", address="10.3.9.9"))
