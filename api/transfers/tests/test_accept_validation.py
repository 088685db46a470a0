"""Bad input to POST /api/wallet/transfer/ and GET /api/wallet/transfers/{id}/: every case is a 4xx
in the error envelope with the right code and fields, stores nothing (no transfer, entry or event)
and leaves its Idempotency-Key unused."""

import json
import uuid
from dataclasses import dataclass

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from api.core.money import format_paise
from api.core.testing import assert_error
from api.transfers.models import Event, LedgerEntry, Transfer
from api.transfers.tests.helpers import AMOUNT_INVALID, client_of, pay, settle

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_audited")]

KEY = "validation-0001"
REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
ZERO = "Must be more than 0.00."
NOTE_LONG = "At most 140 characters."
EMOJI = "\U0001f600"  # one code point


@dataclass(frozen=True)
class Raw:
    """A request body sent exactly as written."""

    text: str | bytes
    content_type: str = "application/json"


def max_amount_error() -> str:
    return f"At most {format_paise(settings.MAX_TRANSFER_AMOUNT_PAISE)}."


def with_amount(amount) -> dict:
    return {"receiver_email": "<bob>", "amount": amount}


# Amounts refused before any lookup, with the message for the `amount` field.
BAD_AMOUNTS = {
    "float": (10.5, AMOUNT_INVALID),  # a JSON number
    "integer": (10, AMOUNT_INVALID),
    "true": (True, AMOUNT_INVALID),
    "null": (None, NOT_NULL),
    "list": (["1.00"], AMOUNT_INVALID),
    "object": ({"value": "1.00"}, AMOUNT_INVALID),
    "negative": ("-1", AMOUNT_INVALID),
    "plus": ("+1", AMOUNT_INVALID),
    "zero": ("0", ZERO),
    "zero-decimals": ("0.00", ZERO),
    "zero-one-decimal": ("0.0", ZERO),
    "3-decimals": ("1.005", AMOUNT_INVALID),
    "over-max": (format_paise(settings.MAX_TRANSFER_AMOUNT_PAISE + 1), max_amount_error()),
    "12-digits": ("999999999999.99", max_amount_error()),
    "13-digits": ("1000000000000", AMOUNT_INVALID),
    "abc": ("abc", AMOUNT_INVALID),
    "exponent": ("1e3", AMOUNT_INVALID),
    "leading-zero": ("01", AMOUNT_INVALID),
    "leading-space": (" 1", AMOUNT_INVALID),
    "trailing-space": ("1 ", AMOUNT_INVALID),
    "empty": ("", AMOUNT_INVALID),
    "dot-only": ("1.", AMOUNT_INVALID),
    "no-rupees": (".50", AMOUNT_INVALID),
    "comma": ("1,000", AMOUNT_INVALID),
    "underscore": ("1_000", AMOUNT_INVALID),
    "hex": ("0x10", AMOUNT_INVALID),
    "arabic-digits": ("\u0661\u0662", AMOUNT_INVALID),
    "devanagari-digits": ("\u0967\u0966", AMOUNT_INVALID),
    "fullwidth-digits": ("\uff11", AMOUNT_INVALID),
    "nan": ("NaN", AMOUNT_INVALID),
}

# (body, status, code, fields). In a dict body "<bob>", "<self>", "<SELF>" and "<inactive>"
# stand for those users' emails.
CASES = {
    **{
        f"amount-{name}": (with_amount(amount), 400, "validation_error", {"amount": [message]})
        for name, (amount, message) in BAD_AMOUNTS.items()
    },
    # fields missing, null, of the wrong shape or nested one level too deep
    "no-fields": (
        {},
        400,
        "validation_error",
        {"receiver_email": [REQUIRED], "amount": [REQUIRED]},
    ),
    "no-amount": ({"receiver_email": "<bob>"}, 400, "validation_error", {"amount": [REQUIRED]}),
    "no-receiver": ({"amount": "1.00"}, 400, "validation_error", {"receiver_email": [REQUIRED]}),
    "wrapped": (
        {"transfer": with_amount("1.00")},
        400,
        "validation_error",
        {"receiver_email": [REQUIRED], "amount": [REQUIRED]},
    ),
    "nested-receiver": (
        {"receiver_email": {"email": "<bob>"}, "amount": "1.00"},
        400,
        "validation_error",
        {"receiver_email": ["Not a valid string."]},
    ),
    "null-receiver": (
        {"receiver_email": None, "amount": "1.00"},
        400,
        "validation_error",
        {"receiver_email": [NOT_NULL]},
    ),
    "blank-receiver": (
        {"receiver_email": "", "amount": "1.00"},
        400,
        "validation_error",
        {"receiver_email": ["This field may not be blank."]},
    ),
    "long-receiver": (
        {"receiver_email": "a" * 250 + "@x.in", "amount": "1.00"},
        400,
        "validation_error",
        {"receiver_email": ["Ensure this field has no more than 254 characters."]},
    ),
    # a JSON number or boolean is no string (DRF alone would store 5 as "5")
    "number-receiver": (
        {"receiver_email": 5, "amount": "1.00"},
        400,
        "validation_error",
        {"receiver_email": ["Not a valid string."]},
    ),
    "number-note": (
        {**with_amount("1.00"), "note": 5},
        400,
        "validation_error",
        {"note": ["Not a valid string."]},
    ),
    "true-note": (
        {**with_amount("1.00"), "note": True},
        400,
        "validation_error",
        {"note": ["Not a valid string."]},
    ),
    "null-note": (
        {**with_amount("1.00"), "note": None},
        400,
        "validation_error",
        {"note": [NOT_NULL]},
    ),
    "nested-note": (
        {**with_amount("1.00"), "note": ["hi"]},
        400,
        "validation_error",
        {"note": ["Not a valid string."]},
    ),
    "note-141": (
        {**with_amount("1.00"), "note": "x" * 141},
        400,
        "validation_error",
        {"note": [NOTE_LONG]},
    ),
    "note-141-emoji": (
        {**with_amount("1.00"), "note": EMOJI * 141},
        400,
        "validation_error",
        {"note": [NOTE_LONG]},
    ),
    "note-nul": (
        {**with_amount("1.00"), "note": "a\u0000b"},
        400,
        "validation_error",
        {"note": ["Null characters are not allowed."]},
    ),
    "note-lone-surrogate": (
        Raw('{"receiver_email": "<bob>", "amount": "1.00", "note": "\\ud800"}'),
        400,
        "validation_error",
        {"note": ["Surrogate characters are not allowed: U+D800."]},
    ),
    "two-errors": (
        {"receiver_email": "<bob>", "amount": "0", "note": "x" * 141},
        400,
        "validation_error",
        {"amount": [ZERO], "note": [NOTE_LONG]},
    ),
    # receivers
    "unknown-receiver": (
        {"receiver_email": "nobody@example.in", "amount": "1.00"},
        400,
        "receiver_not_found",
        {},
    ),
    "inactive-receiver": (
        {"receiver_email": "<inactive>", "amount": "1.00"},
        400,
        "receiver_not_found",
        {},
    ),
    "self": ({"receiver_email": "<self>", "amount": "1.00"}, 400, "self_transfer", {}),
    "self-other-case": ({"receiver_email": "<SELF>", "amount": "1.00"}, 400, "self_transfer", {}),
    # bodies that are not an object
    "body-list": (
        Raw("[]"),
        400,
        "validation_error",
        {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
    ),
    "body-string": (
        Raw('"x"'),
        400,
        "validation_error",
        {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
    ),
    "body-number": (
        Raw("1"),
        400,
        "validation_error",
        {"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]},
    ),
    "body-null": (Raw("null"), 400, "validation_error", {"non_field_errors": ["No data provided"]}),
    "body-empty": (
        Raw(""),
        400,
        "validation_error",
        {"receiver_email": [REQUIRED], "amount": [REQUIRED]},
    ),
    # bodies that do not parse, or are not JSON at all
    "malformed-json": (Raw('{"receiver_email": '), 400, "malformed_request", {}),
    "trailing-garbage": (Raw('{"amount": "1.00"} x'), 400, "malformed_request", {}),
    "json-nan": (Raw('{"receiver_email": "<bob>", "amount": NaN}'), 400, "malformed_request", {}),
    "nested-too-deeply": (Raw("[" * 60_000), 400, "malformed_request", {}),
    "objects-nested-too-deeply": (
        Raw('{"a": ' * 5_000 + "1" + "}" * 5_000),
        400,
        "malformed_request",
        {},
    ),
    "not-utf8": (
        Raw(b'{"receiver_email": "\xff", "amount": "1.00"}'),
        400,
        "malformed_request",
        {},
    ),
    "text-plain": (Raw('{"amount": "1.00"}', "text/plain"), 415, "unsupported_media_type", {}),
    "form": (
        Raw("amount=1.00", "application/x-www-form-urlencoded"),
        415,
        "unsupported_media_type",
        {},
    ),
    "over-64-kib": (
        Raw(json.dumps({**with_amount("1.00"), "note": "x" * 70_000})),
        413,
        "payload_too_large",
        {},
    ),
}


@pytest.fixture
def people(make_wallet):
    alice, bob = make_wallet(balance=10_000), make_wallet()
    inactive = make_wallet(is_active=False)
    return {
        "<bob>": bob.user.email,
        "<self>": alice.user.email,
        "<SELF>": alice.user.email.upper(),
        "<inactive>": inactive.user.email,
        "alice": alice,
        "bob": bob,
    }


def substituted(value, people):
    if isinstance(value, dict):
        return {k: substituted(v, people) for k, v in value.items()}
    if isinstance(value, str):
        return people.get(value, value)
    return value


def stored() -> tuple[int, int, int]:
    return Transfer.objects.count(), LedgerEntry.objects.count(), Event.objects.count()


@pytest.mark.parametrize(("body", "status", "code", "fields"), CASES.values(), ids=CASES)
def test_bad_input_is_refused_stores_nothing_and_leaves_the_key_unused(
    people, body, status, code, fields
):
    client = client_of(people["alice"])
    if isinstance(body, Raw):
        data, content_type = body.text, body.content_type
        if isinstance(data, str):
            data = data.replace("<bob>", people["<bob>"])
    else:
        data, content_type = json.dumps(substituted(body, people)), "application/json"
    before = stored()

    response = client.post(
        "/api/wallet/transfer/", data, content_type=content_type, HTTP_IDEMPOTENCY_KEY=KEY
    )

    assert_error(response, status, code, fields)
    assert stored() == before
    retried = pay(client, people["bob"], "1.00", key=KEY)
    assert retried.status_code == 202, retried.content


def test_an_anonymous_payment_is_401_and_stores_nothing(people):
    before = stored()

    response = pay(APIClient(), people["bob"], "1.00", key=KEY)

    assert_error(response, 401, "not_authenticated")
    assert stored() == before


@pytest.mark.parametrize(
    ("amount", "note"),
    [
        ("0.01", ""),
        ("1", ""),
        ("1.5", ""),
        ("10.50", ""),
        (format_paise(settings.MAX_TRANSFER_AMOUNT_PAISE), ""),
        ("1.00", "x" * 140),
        ("1.00", EMOJI * 140),
        ("1.00", " spaces kept "),
    ],
    ids=["paisa", "whole", "one-decimal", "two-decimals", "max", "note-140", "emoji-140", "spaces"],
)
def test_the_edges_of_valid_input_are_accepted_exactly(people, amount, note):
    response = pay(client_of(people["alice"]), people["bob"], amount, key=KEY, note=note)

    assert response.status_code == 202, response.content
    transfer = Transfer.objects.get(uuid=response.json()["id"])
    rupees, _, paise = amount.partition(".")
    assert transfer.amount == int(rupees) * 100 + int(paise.ljust(2, "0"))
    assert transfer.note == note
    assert response.json()["amount"] == format_paise(transfer.amount)
    assert response.json()["note"] == note


# ---- GET /api/wallet/transfers/{id}/ -------------------------------------------------------


def test_a_transfer_is_hidden_from_third_parties_and_from_its_receiver_until_success(
    people, make_wallet
):
    alice, bob = people["alice"], people["bob"]
    accepted = pay(client_of(alice), bob, "1.00", key=KEY)
    location = accepted["Location"]

    stranger = client_of(make_wallet()).get(location)
    receiver_while_pending = client_of(bob).get(location)
    settle(Transfer.objects.get(uuid=accepted.json()["id"]).pk)
    receiver_once_settled = client_of(bob).get(location)

    assert_error(stranger, 404, "not_found")
    assert_error(receiver_while_pending, 404, "not_found")
    assert receiver_once_settled.status_code == 200, receiver_once_settled.content
    assert receiver_once_settled.json()["status"] == "SUCCESS"


def test_a_failed_transfer_stays_hidden_from_its_receiver(people):
    alice, bob = people["alice"], people["bob"]
    accepted = pay(client_of(alice), bob, "500.00", key=KEY)  # more than alice has
    settle(Transfer.objects.get(uuid=accepted.json()["id"]).pk)

    assert client_of(alice).get(accepted["Location"]).json()["status"] == "FAILED"
    assert_error(client_of(bob).get(accepted["Location"]), 404, "not_found")


@pytest.mark.parametrize(
    "transfer_id",
    ["123", "not-a-uuid", "upper", "hex", "braces", "unknown", "%20", "null"],
)
def test_a_malformed_or_unknown_transfer_id_is_404(people, transfer_id):
    client = client_of(people["alice"])
    public_id = pay(client, people["bob"], "1.00", key=KEY).json()["id"]
    transfer_id = {
        "upper": public_id.upper(),
        "hex": uuid.UUID(public_id).hex,
        "braces": "{" + public_id + "}",
        "unknown": str(uuid.uuid4()),
    }.get(transfer_id, transfer_id)

    response = client.get(f"/api/wallet/transfers/{transfer_id}/")

    assert_error(response, 404, "not_found")
