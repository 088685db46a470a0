"""Log lines: the access line of each request, the fields every line carries, and what is
never written (query strings, tickets)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from api.core.logs import logging_config

pytestmark = pytest.mark.django_db


def test_every_request_gets_one_access_line_without_its_query_string(client, log_lines):
    client.get("/healthz?token=not-for-logs", headers={"X-Request-ID": "trace-access"})

    access = [line for line in log_lines() if line["logger"] == "vaultpay.access"]
    assert len(access) == 1
    line = access[0]
    assert {k: line[k] for k in ("event", "level", "method", "path", "view", "status")} == {
        "event": "request",
        "level": "info",
        "method": "GET",
        "path": "/healthz",
        "view": "healthz",
        "status": 200,
    }
    assert line["request_id"] == "trace-access"
    assert line["duration_ms"] >= 0
    assert line["timestamp"].endswith("Z")
    assert "not-for-logs" not in str(log_lines())


def test_an_unknown_method_is_logged_as_other(client, log_lines):
    client.generic("BREW", "/healthz")

    access = [line for line in log_lines() if line["logger"] == "vaultpay.access"]
    assert [(line["method"], line["status"]) for line in access] == [("other", 405)]


def test_standard_library_lines_carry_the_request_id_and_lose_socket_tickets(log_lines):
    import logging

    from api.core.request_id import request_id_start

    request_id_start("trace-stdlib")
    logging.getLogger("uvicorn.error").info(
        '%s - "WebSocket %s" [accepted]',
        "127.0.0.1:5",
        "/ws/notifications/?ticket=abc123&after_seq=4",
    )

    (line,) = [line for line in log_lines() if line["logger"] == "uvicorn.error"]
    assert line["event"] == '127.0.0.1:5 - "WebSocket /ws/notifications/" [accepted]'
    assert line["request_id"] == "trace-stdlib"


@pytest.mark.parametrize(("log_format", "level"), [("xml", "INFO"), ("json", "LOUD")])
def test_a_bad_log_format_or_level_is_refused(log_format, level):
    with pytest.raises(ImproperlyConfigured):
        logging_config(log_format=log_format, level=level, cache_loggers=False)
