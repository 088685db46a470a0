"""The hot path of POST /api/wallet/transfer/: a new transfer and a replay are each answered with
one prepared SQL statement, and whatever that statement cannot decide falls back to the full path,
which answers as it always did."""

import io
import json

import pytest
from django.core.handlers.wsgi import LimitedStream
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from api.accounts.models import Account
from api.core.testing import assert_error
from api.transfers.apis.accept import TransferCreateApi
from api.transfers.models import Transfer
from api.transfers.tests.helpers import client_of, pay

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_audited")]


@pytest.fixture
def alice(make_wallet):
    return make_wallet(balance=10_000)


@pytest.fixture
def bob(make_wallet):
    # With its user loaded, so that pay() reads no row inside the counted block.
    return Account.objects.select_related("user").get(pk=make_wallet().pk)


def queries_of(call) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return result, [query["sql"] for query in captured.captured_queries]


def test_a_new_transfer_is_one_statement(alice, bob):
    client = client_of(alice)
    pay(client, bob, "1.00")  # the connection prepares the statement once

    response, queries = queries_of(lambda: pay(client, bob, "12.50", key="fast-0001"))

    assert response.status_code == 202, response.content
    assert len(queries) == 1 and queries[0].startswith("EXECUTE transfer_accept_fast ")
    body = response.json()
    transfer = Transfer.objects.get(uuid=body["id"])
    assert (transfer.sender_id, transfer.receiver_id, transfer.amount) == (alice.pk, bob.pk, 1250)
    assert response["Location"] == f"/api/wallet/transfers/{transfer.uuid}/"
    assert body["status"] == "PENDING" and body["amount"] == "12.50"
    assert body["sender"]["email"] == alice.user.email
    assert body["receiver"] == {
        "id": str(bob.user.pk),
        "full_name": bob.user.full_name,
        "email": bob.user.email,
    }


def test_a_replay_is_one_statement_and_equals_the_full_paths_answer(alice, bob):
    client = client_of(alice)
    original = pay(client, bob, "3.00", key="fast-0002", note="chai ☕")

    replay, queries = queries_of(lambda: pay(client, bob, "3.00", key="fast-0002", note="chai ☕"))

    assert len(queries) == 1 and queries[0].startswith("EXECUTE transfer_accept_fast ")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == original.json()
    assert replay["Location"] == original["Location"]


def test_what_the_statement_cannot_decide_gets_the_full_paths_answer(alice, bob):
    client = client_of(alice)
    pay(client, bob, "3.00", key="fast-0003")

    assert_error(pay(client, bob, "4.00", key="fast-0003"), 422, "idempotency_key_reused")
    assert_error(pay(client, alice, "4.00", key="fast-0004"), 400, "self_transfer")
    assert_error(
        pay(client, bob, "100000.01", key="fast-0005"),
        400,
        "validation_error",
        {"amount": ["At most 100000.00."]},
    )
    assert Transfer.objects.filter(sender=alice).count() == 1


def test_unknown_fields_take_the_full_path_which_ignores_them(alice, bob):
    response = client_of(alice).post(
        "/api/wallet/transfer/",
        {"receiver_email": bob.user.email, "amount": "1.00", "currency": "INR"},
        format="json",
        headers={"Idempotency-Key": "fast-0006"},
    )

    assert response.status_code == 202, response.content
    assert Transfer.objects.get(uuid=response.json()["id"]).amount == 100


@pytest.mark.django_db(transaction=True)  # the wake runs after a real commit
@pytest.mark.parametrize("body", [{}, {"currency": "INR"}], ids=["hot-path", "full-path"])
def test_an_accept_stands_when_the_partition_cannot_be_woken(alice, bob, body, monkeypatch):
    """Redis down after the commit: the transfer is stored and answered; the sweep wakes it."""

    def redis_down(*, partition):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr("api.transfers.services.partition_wake", redis_down)
    response = client_of(alice).post(
        "/api/wallet/transfer/",
        {"receiver_email": bob.user.email, "amount": "1.00", **body},
        format="json",
        headers={"Idempotency-Key": f"no-wake-{len(body)}"},
    )

    assert response.status_code == 202, response.content
    assert Transfer.objects.get(uuid=response.json()["id"]).status == "PENDING"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
@pytest.mark.parametrize("charset", ["", "; charset=utf-16"], ids=["no-charset", "charset"])
@pytest.mark.parametrize("extra", [{}, {"currency": "INR"}], ids=["hot-path", "full-path"])
def test_a_body_not_in_utf8_is_malformed_on_both_paths(alice, bob, encoding, charset, extra):
    """json.loads would read UTF-16 and UTF-32 bytes; JSON bodies are UTF-8 only."""
    body = json.dumps({"receiver_email": bob.user.email, "amount": "1.00", **extra})

    response = client_of(alice).post(
        "/api/wallet/transfer/",
        body.encode(encoding),
        content_type=f"application/json{charset}",
        headers={"Idempotency-Key": "not-utf8-0001"},
    )

    assert_error(response, 400, "malformed_request")
    assert not Transfer.objects.filter(sender=alice).exists()


class _ReadRecorder(io.BytesIO):
    """A request body that remembers whether anything read it."""

    was_read = False

    def read(self, *args):
        self.was_read = True
        return super().read(*args)


@pytest.mark.parametrize("token", [None, "not-a-token"], ids=["no-token", "bad-token"])
def test_an_unauthenticated_payment_is_401_before_its_body_is_read(bob, token):
    body = json.dumps({"receiver_email": bob.user.email, "amount": "1.00"}).encode()
    headers = {"Idempotency-Key": "unauth-0001"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = RequestFactory().post(
        "/api/wallet/transfer/", body, content_type="application/json", headers=headers
    )
    recorder = _ReadRecorder(body)
    request._stream = LimitedStream(recorder, len(body))

    response = TransferCreateApi.as_view()(request)
    response.render()

    code = "not_authenticated" if token is None else "token_not_valid"
    assert (response.status_code, json.loads(response.content)["error"]["code"]) == (401, code)
    assert not recorder.was_read


@pytest.mark.parametrize(
    ("headers", "query", "status", "code"),
    [
        ({"Accept": "text/html"}, "", 406, "not_acceptable"),
        ({"Accept": "application/xml, text/html;q=0.9"}, "", 406, "not_acceptable"),
        ({}, "?format=xml", 404, "not_found"),
        ({"Content-Type": f"application/json; x={'x' * 300}"}, "", 415, "unsupported_media_type"),
    ],
    ids=["accept-html", "accept-xml", "format-xml", "content-type-too-long"],
)
def test_what_content_negotiation_refuses_is_refused_on_the_hot_path_too(
    alice, bob, headers, query, status, code
):
    """The full path's content negotiation decides these before any field is read."""
    headers = {"Idempotency-Key": "negotiated-0001", **headers}
    response = client_of(alice).generic(
        "POST",
        f"/api/wallet/transfer/{query}",
        json.dumps({"receiver_email": bob.user.email, "amount": "1.00"}),
        content_type=headers.pop("Content-Type", "application/json"),
        headers=headers,
    )

    assert_error(response, status, code)
    assert not Transfer.objects.filter(sender=alice).exists()


def test_an_indented_answer_asked_for_comes_from_the_full_path(alice, bob):
    response = client_of(alice).post(
        "/api/wallet/transfer/",
        {"receiver_email": bob.user.email, "amount": "1.00"},
        format="json",
        headers={"Idempotency-Key": "indented-0001", "Accept": "application/json; indent=2"},
    )

    assert response.status_code == 202, response.content
    assert response.content.startswith(b'{\n  "id": ')
    assert Transfer.objects.get(uuid=response.json()["id"]).amount == 100
