import re

import pytest

from api.core.testing import assert_error

FRESH_ID = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize("client_id", ["abc", "A.b_c-9", "x" * 64, "0123456789abcdef" * 4])
def test_a_well_formed_client_id_is_echoed(client, client_id):
    response = client.get("/healthz", headers={"X-Request-ID": client_id})

    assert response.status_code == 200
    assert response["X-Request-ID"] == client_id


@pytest.mark.parametrize(
    "client_id", ["", "x" * 65, "has space", "a/b", "semi;colon", "caf\u00e9", "new\nline"]
)
def test_a_malformed_client_id_is_replaced_by_a_fresh_one(client, client_id):
    response = client.get("/healthz", headers={"X-Request-ID": client_id})

    assert response.status_code == 200
    assert FRESH_ID.fullmatch(response["X-Request-ID"])


def test_every_response_gets_a_fresh_id_when_the_client_sends_none(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert FRESH_ID.fullmatch(first) and FRESH_ID.fullmatch(second)
    assert first != second


def test_an_error_envelope_carries_the_echoed_id(client):
    response = client.get("/api/no-such-thing/", headers={"X-Request-ID": "trace-42"})

    error = assert_error(response, 404, "not_found")
    assert error["request_id"] == response["X-Request-ID"] == "trace-42"


def test_an_error_envelope_carries_the_replacement_id(client):
    response = client.get("/api/no-such-thing/", headers={"X-Request-ID": "bad id"})

    error = assert_error(response, 404, "not_found")
    assert FRESH_ID.fullmatch(error["request_id"])


def test_log_lines_of_a_request_carry_its_id(client, log_lines):
    client.get("/api/no-such-thing/", headers={"X-Request-ID": "trace-log"})

    access = [line for line in log_lines() if line["logger"] == "vaultpay.access"]
    assert [(line["request_id"], line["status"]) for line in access] == [("trace-log", 404)]
