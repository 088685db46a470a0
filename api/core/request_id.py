"""The current request's id, readable from anywhere in the same thread or task."""

import re
import uuid
from contextvars import ContextVar

CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)

_current: ContextVar[str] = ContextVar("request_id", default="-")


def request_id_get() -> str:
    return _current.get()


def request_id_start(client_value: str | None) -> str:
    """Adopt the client's id when it is well-formed, otherwise make one."""
    value = client_value if client_value and CLIENT_REQUEST_ID.fullmatch(client_value) else None
    value = value or uuid.uuid4().hex
    _current.set(value)
    return value


def request_id_set(value: str | None) -> None:
    """Adopts an id carried from elsewhere (a task's publishing request); None: no id."""
    _current.set(value or "-")


def request_id_stored() -> str | None:
    """The current id as stored with what the request writes (None outside a request)."""
    value = _current.get()
    return None if value == "-" else value
