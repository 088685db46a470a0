"""Request bodies are at most 64 KiB, else 413, whether or not the client declares the length. A
body sent chunked (no Content-Length) is otherwise read like any other."""

import io
import json

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from api.config.asgi import application as asgi_application
from api.core.testing import assert_error
from api.core.tests.test_errors import ORDER, VALID_ORDER

pytestmark = pytest.mark.urls("api.core.tests.urls")

LIMIT = 64 * 1024


def order_of_size(size: int) -> bytes:
    """A valid order body padded with trailing whitespace to exactly `size` bytes."""
    body = json.dumps(VALID_ORDER).encode()
    return body + b" " * (size - len(body))


def wsgi_chunked(client, body: bytes):
    """POSTs as a WSGI server does for `Transfer-Encoding: chunked`: the decoded body in
    wsgi.input and no CONTENT_LENGTH."""
    return client.generic(
        "POST",
        ORDER,
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body)},
    )


class AsgiResponse:
    """Just enough of a test client response for `assert_error`."""

    def __init__(self, start: dict, content: bytes):
        self.status_code = start["status"]
        self.headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
        self.content = content

    def __getitem__(self, name: str) -> str:
        return self.headers[name.lower()]

    def json(self):
        return json.loads(self.content)


@async_to_sync
async def asgi_post(body: bytes, *, chunked: bool) -> AsgiResponse:
    """POSTs through the ASGI application the way uvicorn delivers it: in several body
    messages, with either a Content-Length or `Transfer-Encoding: chunked` header."""
    if chunked:
        framing = (b"transfer-encoding", b"chunked")
    else:
        framing = (b"content-length", str(len(body)).encode())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": ORDER,
        "raw_path": ORDER.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), framing],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(asgi_application, scope)
    pieces = [body[i : i + 16384] for i in range(0, len(body), 16384)] or [b""]
    for index, piece in enumerate(pieces):
        more = index < len(pieces) - 1
        await communicator.send_input({"type": "http.request", "body": piece, "more_body": more})
    start = await communicator.receive_output(timeout=5)
    content = b""
    while True:
        message = await communicator.receive_output(timeout=5)
        content += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(timeout=5)
    return AsgiResponse(start, content)


def test_a_body_of_exactly_64_kib_is_accepted(client):
    response = client.post(ORDER, order_of_size(LIMIT), content_type="application/json")

    assert response.status_code == 200
    assert response.json() == VALID_ORDER


def test_a_declared_length_over_64_kib_is_a_413(client):
    response = client.post(ORDER, order_of_size(LIMIT + 1), content_type="application/json")

    assert_error(response, 413, "payload_too_large")


def test_a_chunked_body_over_64_kib_is_a_413_under_wsgi(client):
    assert_error(wsgi_chunked(client, order_of_size(LIMIT + 1)), 413, "payload_too_large")


def test_a_small_chunked_body_reaches_the_view_under_wsgi(client):
    response = wsgi_chunked(client, order_of_size(100))

    assert response.status_code == 200
    assert response.json() == VALID_ORDER


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_64_kib_is_a_413_under_asgi(chunked):
    response = asgi_post(order_of_size(LIMIT + 1), chunked=chunked)

    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_of_64_kib_reaches_the_view_under_asgi(chunked):
    response = asgi_post(order_of_size(LIMIT), chunked=chunked)

    assert response.status_code == 200
    assert response.json() == VALID_ORDER
