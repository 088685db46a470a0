"""Test helpers shared by every app's tests: assertions for the error envelope (README,
"API") and text near the edges of what inputs accept, for the schema's patterns."""

from hypothesis import strategies as st

_WHITESPACE = [chr(c) for c in range(0x3001) if chr(c).isspace()] + ["\ufeff"]
# Digits, dots, quotes, whitespace of every kind, NUL, anything. No lone surrogates: they
# cannot travel in UTF-8, so no JSON Schema validator ever sees one.
EDGY_TEXT = st.text(
    st.sampled_from([*"0123456789.+-\"'!~ a", "\x00", "\x7f", "é", *_WHITESPACE])
    | st.characters(exclude_categories=["Cs"]),
    max_size=20,
)


def assert_error(response, status: int, code: str, fields: dict | None = None) -> dict:
    """Asserts that `response` is exactly the envelope with this status, code and fields, and
    that its request id is the X-Request-ID header. Returns the `error` object."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = response.json()
    error = body.get("error")
    assert isinstance(error, dict) and set(body) == {"error"}, body
    message = error.get("message")
    assert isinstance(message, str) and message, body
    expected = {
        "code": code,
        "message": message,
        "fields": fields or {},
        "request_id": response["X-Request-ID"],
    }
    assert error == expected, (error, expected)
    return error
