"""GET /api/users/lookup/?email=: confirming a payee before paying."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from api.config.tests.test_settings import PRODUCTION_SECRETS, start_django
from api.core.testing import assert_error
from api.core.throttling import ScopedCounterThrottle

pytestmark = pytest.mark.django_db

URL = "/api/users/lookup/"


def lookup(user, **params):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client.get(URL, params)


def test_an_active_user_is_found_by_email_in_any_case(make_user, django_assert_num_queries):
    payer = make_user()
    payee = make_user(email="Meera.Iyer@Example.in", full_name="Meera Iyer")

    # The caller (from the token), then the payee.
    with django_assert_num_queries(2):
        response = lookup(payer, email=" MEERA.iyer@example.IN ")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(payee.pk),
        "full_name": "Meera Iyer",
        "email": "meera.iyer@example.in",
    }


def test_unknown_and_inactive_users_are_alike_404(make_user):
    payer = make_user()
    inactive = make_user()
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])

    unknown = assert_error(lookup(payer, email="nobody@example.in"), 404, "receiver_not_found")
    gone = assert_error(lookup(payer, email=inactive.email), 404, "receiver_not_found")

    assert unknown["message"] == gone["message"]


def test_the_callers_own_email_is_a_self_transfer(make_user):
    payer = make_user()

    assert_error(lookup(payer, email=payer.email.upper()), 400, "self_transfer")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "This field is required."),
        ({"email": ""}, "This field may not be blank."),
        ({"email": "meera"}, "Enter a valid email address."),
        ({"email": "meera@"}, "Enter a valid email address."),
        ({"email": "meera iyer@example.in"}, "Enter a valid email address."),
        (
            {"email": "m" * 244 + "@example.in"},
            "Ensure this field has no more than 254 characters.",
        ),
    ],
)
def test_a_missing_or_malformed_email_is_400(make_user, params, message):
    response = lookup(make_user(), **params)

    assert_error(response, 400, "validation_error", {"email": [message]})


def test_lookup_needs_an_access_token():
    assert_error(APIClient().get(URL, {"email": "meera@example.in"}), 401, "not_authenticated")


def test_lookups_are_throttled_per_user(make_user, monkeypatch):
    rates = {**ScopedCounterThrottle.THROTTLE_RATES, "lookup": "2/min"}
    monkeypatch.setattr(ScopedCounterThrottle, "THROTTLE_RATES", rates)
    payer, payee = make_user(), make_user()

    # Every answer counts, refusals included: probing unknown addresses costs the same.
    assert lookup(payer, email="nobody@example.in").status_code == 404
    assert lookup(payer, email=payee.email).status_code == 200
    response = lookup(payer, email=payee.email)

    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert lookup(payee, email=payer.email).status_code == 200


def test_the_lookup_rate_is_throttle_lookup_60_a_minute_by_default():
    then = "from django.conf import settings; print(settings.THROTTLE_RATES['lookup'])"
    default = start_django("api.config.settings.production", PRODUCTION_SECRETS, then)
    chosen = start_django(
        "api.config.settings.production", {**PRODUCTION_SECRETS, "THROTTLE_LOOKUP": "5/min"}, then
    )

    assert default.stdout.strip() == "60/min", default.stderr
    assert chosen.stdout.strip() == "5/min", chosen.stderr
