import re

import pytest
from django.conf import settings

from api.accounts.models import Account
from api.core.testing import assert_error
from api.transfers.models import Event, LedgerEntry, Transfer
from api.users import aadhaar
from api.users.models import User

pytestmark = pytest.mark.django_db

URL = "/api/users/register/"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def in_other_digits(number: str, zero: str) -> str:
    """The number written with another script's digits, which Python's int() accepts."""
    return "".join(chr(ord(zero) + int(digit)) for digit in number)


def assert_nothing_stored():
    assert not User.objects.exists()
    assert not Account.objects.filter(kind=Account.Kind.WALLET).exists()
    assert not Transfer.objects.exists()


def test_register_answers_201_with_the_masked_user(client, registration):
    body = registration(email="  Asha.Rao@Example.IN ", aadhaar="2345 6789 0124")
    response = client.post(URL, body)

    assert response.status_code == 201, response.content
    user = User.objects.get()
    assert response.json() == {
        "id": str(user.pk),
        "email": "asha.rao@example.in",
        "full_name": "Asha Rao",
        "phone": "+919876543210",
        "aadhaar_masked": "XXXX XXXX 0124",
        "is_staff": False,
        "date_joined": user.date_joined.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    assert TIMESTAMP.fullmatch(response.json()["date_joined"])
    assert user.check_password(body["password"])
    assert (
        aadhaar.decrypt(user.aadhaar_ciphertext, user.aadhaar_key_id, user_id=user.pk)
        == "234567890124"
    )
    assert user.aadhaar_index == aadhaar.blind_index("234567890124")


def test_register_settles_the_welcome_credit(client, registration):
    response = client.post(URL, registration())

    assert response.status_code == 201
    wallet = Account.objects.get(user_id=response.json()["id"])
    assert wallet.balance == settings.WELCOME_CREDIT_PAISE > 0
    welcome = Transfer.objects.get(receiver=wallet)
    assert (welcome.kind, welcome.status, welcome.amount) == (
        Transfer.Kind.WELCOME,
        Transfer.Status.SUCCESS,
        settings.WELCOME_CREDIT_PAISE,
    )
    assert sorted(
        LedgerEntry.objects.filter(transfer=welcome).values_list("amount", flat=True)
    ) == [
        -settings.WELCOME_CREDIT_PAISE,
        settings.WELCOME_CREDIT_PAISE,
    ]
    assert list(
        Event.objects.filter(user_id=response.json()["id"]).order_by("seq").values_list("type")
    ) == [(Event.Type.TRANSFER_UPDATED,), (Event.Type.BALANCE_UPDATED,)]


@pytest.mark.parametrize(
    "phone, stored, shown",
    [
        ("9876543210", "+919876543210", "+919876543210"),
        ("+916000000000", "+916000000000", "+916000000000"),
        ("", "", None),
        (None, "", None),
    ],
)
def test_phone_is_stored_as_e164_or_empty(client, registration, phone, stored, shown):
    response = client.post(URL, registration(phone=phone))

    assert response.status_code == 201, response.content
    assert response.json()["phone"] == shown
    assert User.objects.get().phone == stored


def test_phone_may_be_left_out(client, registration):
    body = registration()
    del body["phone"]

    response = client.post(URL, body)

    assert response.status_code == 201, response.content
    assert response.json()["phone"] is None


@pytest.mark.parametrize(
    "number",
    [
        "23456789012",  # 11 digits
        "2345678901245",  # 13 digits
        "2345 6789 012A",  # a letter
        "2345 6789 0125",  # Verhoeff check digit wrong
        "034567890124",  # leading 0
        "134567890124",  # leading 1
        in_other_digits("234567890124", zero="\uff10"),  # full-width
        in_other_digits("234567890124", zero="\u0966"),  # Devanagari
        "2345\t6789\t0124",  # only ASCII spaces are ignored
        "  ",
        "",
    ],
)
def test_invalid_aadhaar_is_400_and_stores_nothing(client, registration, number):
    response = client.post(URL, registration(aadhaar=number))

    assert_error(response, 400, "validation_error", {"aadhaar": ["Enter a valid Aadhaar number."]})
    assert_nothing_stored()


@pytest.mark.parametrize(
    "phone", ["5876543210", "987654321", "98765432100", "+91 9876543210", "+929876543210", "x"]
)
def test_invalid_phone_is_400_and_stores_nothing(client, registration, phone):
    response = client.post(URL, registration(phone=phone))

    assert_error(
        response,
        400,
        "validation_error",
        {
            "phone": [
                "Enter an Indian mobile number: +91 and 10 digits starting with 6-9, "
                "or the 10 digits."
            ]
        },
    )
    assert_nothing_stored()


@pytest.mark.parametrize("email", ["nope", "a@b", "", f"{'a' * 245}@example.in"])
def test_invalid_email_is_400_and_stores_nothing(client, registration, email):
    response = client.post(URL, registration(email=email))

    assert_error(response, 400, "validation_error", {"email": ["Enter a valid email address."]})
    assert_nothing_stored()


@pytest.mark.parametrize(
    "password, problem",
    [
        ("short1", "too short"),
        ("password123", "too common"),
        ("4815162342", "entirely numeric"),
        ("asha.rao.example", "too similar"),
    ],
)
def test_weak_password_is_400_and_stores_nothing(client, registration, password, problem):
    body = registration(email="asha.rao@example.in", password=password)

    response = client.post(URL, body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and list(error["fields"]) == ["password"]
    assert any(problem in message for message in error["fields"]["password"]), error
    assert_nothing_stored()


def test_every_invalid_field_is_named_at_once(client, registration):
    response = client.post(
        URL, registration(email="nope", aadhaar="1", phone="1", password="1", full_name="")
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"email", "full_name", "phone", "aadhaar", "password"}
    assert_nothing_stored()


@pytest.mark.parametrize("missing", ["email", "password", "full_name", "aadhaar"])
def test_missing_field_is_400(client, registration, missing):
    body = registration()
    del body[missing]

    response = client.post(URL, body)

    assert_error(response, 400, "validation_error", {missing: ["This field is required."]})


def test_duplicate_aadhaar_written_differently_is_400(client, registration):
    assert client.post(URL, registration(aadhaar="2345 6789 0124")).status_code == 201

    response = client.post(URL, registration(aadhaar="234567890124"))

    assert_error(
        response,
        400,
        "validation_error",
        {"aadhaar": ["This Aadhaar number is already registered."]},
    )
    assert User.objects.count() == 1
    assert Account.objects.filter(kind=Account.Kind.WALLET).count() == 1


def test_duplicate_email_in_another_case_is_400(client, registration):
    assert client.post(URL, registration(email="asha@example.in")).status_code == 201

    response = client.post(URL, registration(email="ASHA@Example.In"))

    assert_error(
        response, 400, "validation_error", {"email": ["A user with this email already exists."]}
    )
    assert User.objects.count() == 1


def test_both_duplicates_are_named(client, registration):
    first = registration()
    assert client.post(URL, first).status_code == 201

    response = client.post(URL, registration(email=first["email"], aadhaar=first["aadhaar"]))

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"email", "aadhaar"}


def test_register_ignores_a_bad_authorization_header(client, registration):
    response = client.post(URL, registration(), HTTP_AUTHORIZATION="Bearer not-a-token")

    assert response.status_code == 201


def test_register_is_throttled_per_client(client, registration, throttle):
    throttle("register", "2/hour")
    assert client.post(URL, registration()).status_code == 201
    assert client.post(URL, registration(aadhaar="1")).status_code == 400

    response = client.post(URL, registration())

    assert_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert User.objects.count() == 1
