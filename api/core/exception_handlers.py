"""Every error leaves VaultPay in the error envelope (README, "API").

`drf_exception_handler` covers the REST views; `ErrorEnvelopeMiddleware` covers what Django
itself answers (unknown URLs, wrong methods outside DRF, crashes). A 500 says only
`internal_error`; PostgreSQL or Redis being unreachable is a 503 `service_unavailable` with
Retry-After.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken

from api.core.errors import (
    INTERNAL_ERROR,
    SERVICE_UNAVAILABLE,
    SERVICE_UNAVAILABLE_ERRORS,
    SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS,
    error_body,
)
from api.core.exceptions import ApplicationError

logger = logging.getLogger(__name__)

# DRF's own codes are kept except where the API names a more specific code of its own.
_CODES: dict[type[Exception], str] = {
    exceptions.ParseError: "malformed_request",
    exceptions.ValidationError: "validation_error",
}


def _fields(detail) -> dict[str, list[str]]:
    """DRF's nested error detail flattened to {"field": ["message", ...]} (dotted paths)."""
    fields: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, list) and value and not isinstance(value[0], str):
            value = dict(enumerate(value))  # per-item errors of a list, {} for a valid item
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        else:
            items = value if isinstance(value, list) else [value]
            fields.setdefault(prefix or "non_field_errors", []).extend(str(i) for i in items)

    walk("", detail)
    return fields


def _message(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "Some fields are invalid."
    if isinstance(exc, InvalidToken):
        return "The token is invalid or expired."
    return str(exc.detail if isinstance(exc.detail, str) else exc.default_detail)


def drf_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        response = Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
        if exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, SERVICE_UNAVAILABLE_ERRORS):
        logger.warning("Unavailable in %s: %r", context.get("view").__class__.__name__, exc)
        response = Response(error_body(*SERVICE_UNAVAILABLE), status=503)
        response["Retry-After"] = str(SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if not isinstance(exc, exceptions.APIException):
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
        return Response(error_body(*INTERNAL_ERROR), status=500)

    code = _CODES.get(type(exc)) or exc.default_code
    fields = _fields(exc.detail) if isinstance(exc, exceptions.ValidationError) else {}
    headers = {}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(exc.wait)  # whole seconds, rounded up by DRF
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    response = Response(error_body(code, _message(exc), fields), status=exc.status_code)
    for name, value in headers.items():
        response[name] = value
    return response
