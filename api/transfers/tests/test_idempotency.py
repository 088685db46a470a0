"""Idempotency-Key on POST /api/wallet/transfer/ and POST /api/wallet/deposits/, rule by rule:
checks in the order auth -> body -> key -> key lookup -> validation; keys scoped per sender
(deposits: per treasury) and never consumed by a refused request."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from api.core.money import format_paise
from api.core.testing import assert_error
from api.transfers.models import Transfer
from api.transfers.tests.helpers import AMOUNT_INVALID, client_of, pay, settle
from api.transfers.tests.threads import run_concurrently

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_audited")]

KEY = "payment-0001"


@pytest.fixture
def alice(make_wallet):
    return make_wallet(balance=10_000)


@pytest.fixture
def bob(make_wallet):
    return make_wallet()


def stored() -> int:
    return Transfer.objects.count()


def transfer_of(response) -> Transfer:
    return Transfer.objects.get(uuid=response.json()["id"])


def assert_replayed(replay, original) -> dict:
    """A replay: 200, the original's Location, `Idempotent-Replayed: true`."""
    assert replay.status_code == 200, replay.content
    assert replay["Location"] == original["Location"]
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == original.json()["id"]
    return replay.json()


# ---- key present and well-formed ----------------------------------------------------------


def test_a_payment_without_a_key_is_refused_and_stores_nothing(alice, bob):
    before = stored()

    response = client_of(alice).post(
        "/api/wallet/transfer/",
        {"receiver_email": bob.user.email, "amount": "1.00"},
        format="json",
    )

    assert_error(response, 400, "idempotency_key_required")
    assert stored() == before


@pytest.mark.parametrize(
    "key",
    [
        "a" * 7,
        "a" * 256,
        "abcd efgh",  # a space (0x20)
        "abcd\tefgh",
        "abcd\x7fefgh",  # DEL
        "clé-abcdefgh",  # non-ASCII
        "١٢٣٤٥٦٧٨٩",  # non-ASCII digits
        "",
        '""',
        '"abcdefg"',  # 7 once unquoted
        '"' + "a" * 256 + '"',
    ],
    ids=[
        "7-chars",
        "256-chars",
        "space",
        "tab",
        "del",
        "non-ascii",
        "arabic-digits",
        "empty",
        "empty-quoted",
        "quoted-7",
        "quoted-256",
    ],
)
def test_a_malformed_key_is_refused_and_stores_nothing(alice, bob, key):
    before = stored()

    response = pay(client_of(alice), bob, "1.00", key=key)

    assert_error(response, 400, "idempotency_key_invalid")
    assert stored() == before


@pytest.mark.parametrize(
    "key",
    ["a" * 8, "a" * 255, "!~#$%&'()*+,-./:;<=>?@[\\]^_`{|}", 'ab"cd"ef', '"' + "b" * 255 + '"'],
    ids=["8-chars", "255-chars", "punctuation", "inner-quotes", "quoted-255"],
)
def test_keys_of_8_to_255_visible_ascii_characters_are_accepted(alice, bob, key):
    response = pay(client_of(alice), bob, "1.00", key=key)

    assert response.status_code == 202, response.content
    unquoted = key[1:-1] if key.startswith('"') else key
    assert transfer_of(response).idempotency_key == unquoted


def test_a_quoted_key_is_the_same_key_unquoted(alice, bob):
    client = client_of(alice)

    first = pay(client, bob, "1.00", key='"abcdefgh"')
    again = pay(client, bob, "1.00", key="abcdefgh")
    quoted_again = pay(client, bob, "1.00", key='"abcdefgh"')

    assert first.status_code == 202, first.content
    assert transfer_of(first).idempotency_key == "abcdefgh"
    assert_replayed(again, first)
    assert_replayed(quoted_again, first)
    assert Transfer.objects.filter(sender=alice).count() == 1


@pytest.mark.parametrize(
    ("authenticated", "body", "key", "status", "code"),
    [
        (False, '{"amount": ', None, 401, "not_authenticated"),
        (True, '{"amount": ', None, 400, "malformed_request"),
        (True, '{"amount": ', "short", 400, "malformed_request"),
        (True, '{"amount": "abc"}', None, 400, "idempotency_key_required"),
        (True, '{"amount": "abc"}', "short", 400, "idempotency_key_invalid"),
        (True, '{"amount": "abc"}', KEY, 400, "validation_error"),
    ],
    ids=["auth", "body-before-missing-key", "body-before-bad-key", "key", "key-form", "fields"],
)
def test_checks_run_in_the_documented_order(alice, authenticated, body, key, status, code):
    """auth -> body parses -> key present and well-formed -> key lookup -> validation."""
    client = client_of(alice) if authenticated else APIClient()
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}

    response = client.post(
        "/api/wallet/transfer/", body, content_type="application/json", **headers
    )

    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code


# ---- known key, same request: replay ------------------------------------------------------


def test_a_replay_answers_200_with_the_transfer_as_it_is_now(alice, bob):
    client = client_of(alice)

    accepted = pay(client, bob, "25.50", key=KEY, note="rent")
    pending_replay = pay(client, bob, "25.50", key=KEY, note="rent")
    settle(transfer_of(accepted).pk)
    settled_replay = pay(client, bob, "25.50", key=KEY, note="rent")

    assert accepted.status_code == 202, accepted.content
    assert "Idempotent-Replayed" not in accepted
    assert accepted["Location"] == f"/api/wallet/transfers/{accepted.json()['id']}/"
    assert assert_replayed(pending_replay, accepted) == accepted.json()
    body = assert_replayed(settled_replay, accepted)
    assert (body["status"], body["failure_code"], body["amount"], body["note"]) == (
        "SUCCESS",
        None,
        "25.50",
        "rent",
    )
    assert body["settled_at"] is not None
    assert body == client.get(accepted["Location"]).json()
    alice.refresh_from_db()
    assert alice.balance == 10_000 - 2550  # applied once
    assert Transfer.objects.filter(sender=alice).count() == 1


def test_a_failed_transfer_replays_failed_and_a_new_key_retries_it(alice, bob):
    client = client_of(alice)
    accepted = pay(client, bob, "200.00", key=KEY)  # more than alice has
    settle(transfer_of(accepted).pk)

    replay = pay(client, bob, "200.00", key=KEY)
    retry = pay(client, bob, "50.00", key="payment-0002")
    settle(transfer_of(retry).pk)

    body = assert_replayed(replay, accepted)
    assert (body["status"], body["failure_code"]) == ("FAILED", "insufficient_funds")
    assert retry.status_code == 202, retry.content
    assert transfer_of(retry).status == "SUCCESS"


def test_a_missing_note_and_an_empty_note_are_the_same_request(alice, bob):
    client = client_of(alice)

    accepted = pay(client, bob, "1.00", key=KEY)
    replay = pay(client, bob, "1.00", key=KEY, note="")

    assert accepted.status_code == 202
    assert_replayed(replay, accepted)


def test_the_receiver_email_matches_in_any_case(alice, bob):
    client = client_of(alice)
    email = bob.user.email

    accepted = pay(client, email.upper(), "1.00", key=KEY)
    replays = [pay(client, spelling, "1.00", key=KEY) for spelling in (email, email.title())]

    assert accepted.status_code == 202, accepted.content
    assert transfer_of(accepted).receiver_id == bob.pk
    assert accepted.json()["receiver"]["email"] == email
    for replay in replays:
        assert_replayed(replay, accepted)


def test_a_replay_wins_over_validation_once_the_receiver_is_deactivated(alice, bob):
    client = client_of(alice)
    accepted = pay(client, bob, "1.00", key=KEY)
    bob.user.is_active = False
    bob.user.save(update_fields=["is_active"])

    replay = pay(client, bob, "1.00", key=KEY)
    fresh = pay(client, bob, "1.00", key="payment-0002")

    assert_replayed(replay, accepted)
    assert_error(fresh, 400, "receiver_not_found")


# ---- known key, other request: 422 --------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "2.00"},
        {"note": "other"},
        {"receiver_email": "carol"},  # another existing user
        {"receiver_email": "nobody@example.in"},
        {"receiver_email": "alice"},  # a self-transfer
        {"amount": "0.00"},  # invalid, but the key decides first
        {"amount": "abc"},  # malformed
        {"amount": 1},
        {"note": "x" * 141},
    ],
    ids=[
        "amount",
        "note",
        "receiver",
        "unknown-receiver",
        "self",
        "zero",
        "malformed-amount",
        "number-amount",
        "long-note",
    ],
)
def test_a_known_key_with_another_request_is_422(alice, bob, make_wallet, body):
    carol = make_wallet()
    client = client_of(alice)
    accepted = pay(client, bob, "1.00", key=KEY)
    before = stored()
    emails = {"carol": carol.user.email, "alice": alice.user.email}
    other = {"receiver_email": bob.user.email, "amount": "1.00", **body}
    other["receiver_email"] = emails.get(other["receiver_email"], other["receiver_email"])

    response = client.post("/api/wallet/transfer/", other, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert accepted.status_code == 202
    assert_error(response, 422, "idempotency_key_reused")
    assert stored() == before


@pytest.mark.parametrize("raw", ["[]", '"x"', "null", "{}", ""], ids=repr)
def test_a_known_key_with_a_malformed_body_is_422(alice, bob, raw):
    client = client_of(alice)
    pay(client, bob, "1.00", key=KEY)
    before = stored()

    response = client.post(
        "/api/wallet/transfer/", raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY
    )

    assert_error(response, 422, "idempotency_key_reused")
    assert stored() == before


# ---- scope and consumption ----------------------------------------------------------------


def test_keys_are_scoped_per_sender(alice, bob, make_wallet):
    carol = make_wallet(balance=10_000)

    from_alice = pay(client_of(alice), carol, "1.00", key=KEY)
    from_carol = pay(client_of(carol), alice, "2.00", key=KEY)

    assert (from_alice.status_code, from_carol.status_code) == (202, 202)
    assert from_alice.json()["id"] != from_carol.json()["id"]
    assert Transfer.objects.filter(idempotency_key=KEY).count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "0"},
        {"amount": "abc"},
        {"receiver_email": "nobody@example.in"},
        {"receiver_email": "alice"},
        {"note": "x" * 141},
    ],
    ids=["zero", "malformed", "unknown-receiver", "self", "long-note"],
)
def test_a_refused_request_does_not_consume_its_key(alice, bob, body):
    client = client_of(alice)
    refused = {"receiver_email": bob.user.email, "amount": "1.00", **body}
    if refused["receiver_email"] == "alice":
        refused["receiver_email"] = alice.user.email
    before = stored()

    first = client.post("/api/wallet/transfer/", refused, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert first.status_code == 400, first.content
    assert stored() == before

    accepted = pay(client, bob, "1.00", key=KEY)

    assert accepted.status_code == 202, accepted.content


@pytest.mark.django_db(transaction=True)
def test_the_same_new_key_sent_50_times_at_once_makes_one_transfer(alice, bob):
    def send():
        return pay(client_of(alice), bob, "3.00", key=KEY)

    responses = run_concurrently([send] * 50, threads=50)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 49 + [202], statuses
    assert {r.json()["id"] for r in responses} == {responses[0].json()["id"]}
    assert {r["Location"] for r in responses} == {responses[0]["Location"]}
    assert [r.get("Idempotent-Replayed") for r in responses].count("true") == 49
    assert Transfer.objects.filter(sender=alice).count() == 1
    settle(Transfer.objects.get(sender=alice).pk)


@pytest.mark.django_db(transaction=True)
def test_one_new_key_with_two_requests_at_once_keeps_the_first_and_refuses_the_other(alice, bob):
    amounts = ["3.00", "4.00"] * 20

    responses = run_concurrently(
        [lambda a=a: pay(client_of(alice), bob, a, key=KEY) for a in amounts], threads=40
    )

    transfer = Transfer.objects.get(sender=alice)
    winner = format_paise(transfer.amount)
    statuses = {"3.00": [], "4.00": []}
    for amount, response in zip(amounts, responses, strict=True):
        statuses[amount].append(response.status_code)
    loser = "4.00" if winner == "3.00" else "3.00"
    assert sorted(statuses[winner]) == [200] * 19 + [202]
    assert statuses[loser] == [422] * 20
    assert {r.json()["id"] for r in responses if r.status_code < 300} == {str(transfer.uuid)}
    settle(transfer.pk)


# ---- deposits: staff only, keys shared by all staff ---------------------------------------


@pytest.fixture
def staff(make_wallet):
    def make():
        wallet = make_wallet()
        wallet.user.is_staff = True
        wallet.user.save(update_fields=["is_staff"])
        return wallet

    return make


def deposit_post(client, email: str, amount: str, key: str | None = KEY):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(
        "/api/wallet/deposits/", {"email": email, "amount": amount}, format="json", **headers
    )


def test_a_customer_may_not_deposit(alice, bob):
    before = stored()

    response = deposit_post(client_of(alice), bob.user.email, "10.00")

    assert_error(response, 403, "permission_denied")
    assert stored() == before


def test_a_staff_deposit_settles_through_the_pipeline(staff, bob):
    response = deposit_post(client_of(staff()), bob.user.email.upper(), "500.00")

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["sender"], body["receiver"]["email"]) == (
        "PENDING",
        {"id": None, "full_name": "VaultPay", "email": None},
        bob.user.email,
    )
    assert settle(transfer_of(response).pk).status == "SUCCESS"
    bob.refresh_from_db()
    assert bob.balance == 50_000


def test_deposit_keys_are_shared_by_all_staff(staff, alice, bob):
    first, second = client_of(staff()), client_of(staff())

    accepted = deposit_post(first, bob.user.email, "10.00")
    replay = deposit_post(second, bob.user.email.upper(), "10.00")
    reused = deposit_post(second, bob.user.email, "11.00")
    malformed = deposit_post(second, bob.user.email, "eleven")
    own_payment = pay(client_of(alice), bob, "1.00", key=KEY)  # a user's scope is separate

    assert accepted.status_code == 202, accepted.content
    assert_replayed(replay, accepted)
    assert_error(reused, 422, "idempotency_key_reused")
    assert_error(malformed, 422, "idempotency_key_reused")
    assert own_payment.status_code == 202, own_payment.content
    assert Transfer.objects.filter(idempotency_key=KEY).count() == 2


def test_a_deposit_is_at_most_max_deposit_amount(staff, bob):
    client = client_of(staff())
    maximum = format_paise(settings.MAX_DEPOSIT_AMOUNT_PAISE)
    over = format_paise(settings.MAX_DEPOSIT_AMOUNT_PAISE + 1)
    before = stored()

    refused = deposit_post(client, bob.user.email, over, key="deposit-over")
    at_most = deposit_post(client, bob.user.email, maximum, key="deposit-over")

    assert_error(refused, 400, "validation_error", {"amount": [f"At most {maximum}."]})
    assert at_most.status_code == 202, at_most.content
    assert stored() == before + 1


@pytest.mark.parametrize(
    ("body", "key", "status", "code", "fields"),
    [
        ({"email": "bob", "amount": "1.00"}, None, 400, "idempotency_key_required", {}),
        ({"email": "bob", "amount": "1.00"}, "short", 400, "idempotency_key_invalid", {}),
        ({"email": "nobody@example.in", "amount": "1.00"}, KEY, 400, "receiver_not_found", {}),
        (
            {"email": "bob", "amount": "0.00"},
            KEY,
            400,
            "validation_error",
            {"amount": ["Must be more than 0.00."]},
        ),
        ({"email": "bob", "amount": 1}, KEY, 400, "validation_error", {"amount": [AMOUNT_INVALID]}),
        (
            {"amount": "1.00"},
            KEY,
            400,
            "validation_error",
            {"email": ["This field is required."]},
        ),
    ],
    ids=["no-key", "short-key", "unknown", "zero", "number", "no-email"],
)
def test_a_refused_deposit_stores_nothing(staff, bob, body, key, status, code, fields):
    client = client_of(staff())
    if body.get("email") == "bob":
        body = {**body, "email": bob.user.email}
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    before = stored()

    response = client.post("/api/wallet/deposits/", body, format="json", **headers)

    assert_error(response, status, code, fields)
    assert stored() == before
