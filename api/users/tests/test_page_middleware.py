"""Sessions, CSRF, Django's authentication and messages run for the admin's pages and are
skipped for the API (api/core/page_middleware.py)."""

import pytest
from django.test import Client

from api.users.services import user_staff_create

pytestmark = pytest.mark.django_db

PASSWORD = "staff-horse-42"


@pytest.fixture
def staff():
    user = user_staff_create(
        email="root@vaultpay.in", password=PASSWORD, full_name="Root", aadhaar="2345 6789 0124"
    )
    user.is_superuser = True
    user.save()
    return user


def test_the_admin_sign_in_refuses_a_post_without_the_csrf_token(staff):
    client = Client(enforce_csrf_checks=True)

    form = client.get("/admin/login/")
    refused = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})

    assert form.status_code == 200 and "csrftoken" in form.cookies
    assert refused.status_code == 403
    assert "sessionid" not in refused.cookies


def test_the_admin_sign_in_with_the_csrf_token_starts_a_session(staff):
    client = Client(enforce_csrf_checks=True)
    token = client.get("/admin/login/").cookies["csrftoken"].value

    signed_in = client.post(
        "/admin/login/",
        {"username": staff.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    listing = client.get("/admin/users/user/")

    assert signed_in.status_code == 302 and "sessionid" in signed_in.cookies
    assert listing.status_code == 200


def test_api_answers_set_no_cookie_and_ignore_an_admin_session(staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)  # a session cookie the API must not honour

    balance = client.get("/api/wallet/balance/")
    config = client.get("/api/config/")
    login = client.post(
        "/api/users/login/",
        {"email": staff.email, "password": PASSWORD},
        content_type="application/json",
    )

    assert balance.status_code == 401 and balance.json()["error"]["code"] == "not_authenticated"
    assert config.status_code == 200
    assert login.status_code == 200 and "access" in login.json()  # no CSRF token needed
    for answer in (balance, config, login):
        assert not hasattr(answer.wsgi_request, "session")
        assert not answer.cookies, answer.cookies
        assert answer["X-Frame-Options"] == "DENY"
        assert answer["X-Content-Type-Options"] == "nosniff"


def test_a_page_outside_the_api_still_gets_the_session_middleware(staff):
    client = Client()
    client.force_login(staff)

    page = client.get("/admin/")

    assert page.status_code == 200
    assert page.wsgi_request.user == staff
    assert hasattr(page.wsgi_request, "session")
