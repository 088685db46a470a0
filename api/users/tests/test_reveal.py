import pytest

from api.core.testing import assert_error
from api.users.models import AadhaarRevealAudit
from api.users.tests.conftest import PASSWORD, bearer

pytestmark = pytest.mark.django_db

URL = "/api/users/profile/reveal-aadhaar/"


@pytest.fixture
def asha(make_user, login):
    user = make_user(aadhaar="2345 6789 0124")
    return user, bearer(login(user.email)["access"])


def audits(user) -> list[tuple]:
    return list(
        AadhaarRevealAudit.objects.filter(user=user)
        .order_by("pk")
        .values_list("succeeded", "ip_address", "request_id")
    )


def test_the_right_password_reveals_the_number_and_is_audited(client, asha):
    user, auth = asha

    response = client.post(URL, {"password": PASSWORD}, HTTP_X_REQUEST_ID="reveal-1", **auth)

    assert response.status_code == 200
    assert response.json() == {"aadhaar": "2345 6789 0124"}
    assert audits(user) == [(True, "127.0.0.1", "reveal-1")]


def test_a_wrong_password_is_403_and_audited(client, asha):
    user, auth = asha

    response = client.post(URL, {"password": "wrong-horse-42"}, HTTP_X_REQUEST_ID="r-2", **auth)

    error = assert_error(response, 403, "wrong_password")
    assert "0124" not in str(error)
    assert audits(user) == [(False, "127.0.0.1", "r-2")]


def test_reveal_needs_authentication(client, asha):
    user, _ = asha

    assert_error(client.post(URL, {"password": PASSWORD}), 401, "not_authenticated")
    assert audits(user) == []


def test_reveal_is_throttled_per_user_and_throttled_calls_are_audited(client, asha, throttle):
    throttle("reveal", "2/min")
    user, auth = asha
    assert client.post(URL, {"password": "wrong-horse-42"}, **auth).status_code == 403
    assert client.post(URL, {"password": PASSWORD}, **auth).status_code == 200

    response = client.post(URL, {"password": PASSWORD}, HTTP_X_REQUEST_ID="r-3", **auth)

    assert_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "aadhaar" not in response.json()
    assert [succeeded for succeeded, _, _ in audits(user)] == [False, True, False]
    assert audits(user)[-1] == (False, "127.0.0.1", "r-3")
