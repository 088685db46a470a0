from io import StringIO

import pytest
from django.core.management import call_command

from api.core.testing import assert_error
from api.users.models import AadhaarRevealAudit, User
from api.users.tests.conftest import PASSWORD, bearer
from api.users.tests.test_aadhaar import unbound_encrypt

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
    throttle("reveal", "2/hour")
    user, auth = asha
    assert client.post(URL, {"password": "wrong-horse-42"}, **auth).status_code == 403
    assert client.post(URL, {"password": PASSWORD}, **auth).status_code == 200

    response = client.post(URL, {"password": PASSWORD}, HTTP_X_REQUEST_ID="r-3", **auth)

    assert_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert "aadhaar" not in response.json()
    assert [succeeded for succeeded, _, _ in audits(user)] == [False, True, False]
    assert audits(user)[-1] == (False, "127.0.0.1", "r-3")


def test_a_ciphertext_copied_from_another_user_reveals_nothing(client, asha, make_user, caplog):
    user, auth = asha
    ravi = make_user(aadhaar="3456 7890 1238")
    # Someone with write access to the table copies Ravi's ciphertext onto Asha's row.
    User.objects.filter(pk=user.pk).update(
        aadhaar_ciphertext=ravi.aadhaar_ciphertext, aadhaar_key_id=ravi.aadhaar_key_id
    )

    response = client.post(URL, {"password": PASSWORD}, HTTP_X_REQUEST_ID="r-4", **auth)

    error = assert_error(response, 409, "aadhaar_unreadable")
    assert "3456" not in response.content.decode() and "1238" not in response.content.decode()
    assert "aadhaar" not in response.json()
    assert audits(user) == [(False, "127.0.0.1", "r-4")]
    assert "request id" in error["message"]
    assert f"Aadhaar number of user {user.pk} cannot be read" in caplog.text
    assert "3456" not in caplog.text


def test_a_value_written_before_the_user_binding_is_revealed_after_the_rewrite(client, asha):
    user, auth = asha
    ciphertext, kid = unbound_encrypt("234567890124")
    User.objects.filter(pk=user.pk).update(aadhaar_ciphertext=ciphertext, aadhaar_key_id=kid)

    assert_error(client.post(URL, {"password": PASSWORD}, **auth), 409, "aadhaar_unreadable")
    call_command("aadhaar_rotate_keys", stdout=StringIO())
    response = client.post(URL, {"password": PASSWORD}, **auth)

    assert response.status_code == 200
    assert response.json() == {"aadhaar": "2345 6789 0124"}
