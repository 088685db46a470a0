"""The error envelope (README, "API"), as a load test reads it: every 4xx and 5xx is
`{"error": {"code", "message", "fields", "request_id"}}`."""

import json


def error_code(body: bytes) -> str | None:
    """The envelope's `code`, or None when the body is not a well-formed envelope."""
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return None
    well_formed = (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
        and isinstance(error.get("fields"), dict)
        and isinstance(error.get("request_id"), str)
    )
    return error["code"] if well_formed else None


def error_kind(status: int, body: bytes) -> str:
    """`429 throttled`, `500 internal_error`, ...: the status and the envelope's code."""
    code = error_code(body)
    if code is None:
        code = "not an error envelope" if status >= 300 else "unexpected status"
    return f"{status} {code}"
