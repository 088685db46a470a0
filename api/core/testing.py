"""Test assertions for the error envelope (README, "API"), shared by every app's tests."""


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
