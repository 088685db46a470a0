import logging
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig

from api.core.errors import INTERNAL_ERROR, error_response
from api.core.request_id import request_id_get, request_id_start


class RequestIdMiddleware:
    """Gives every request an id (the client's X-Request-ID when well-formed) and echoes it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_start(request.headers.get("X-Request-ID"))
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_get()
        return True


def payload_too_large():
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_response(
        "payload_too_large", f"Request bodies are limited to {limit // 1024} KiB.", 413
    )


class BodySizeLimitMiddleware:
    """Answers 413 for bodies over DATA_UPLOAD_MAX_MEMORY_SIZE before any view reads them.

    A declared Content-Length is checked without reading; a body without one (chunked) is
    read through `request.body`, which enforces the same limit.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return payload_too_large()
        if not declared and request.method in ("POST", "PUT", "PATCH"):
            try:
                request.body  # noqa: B018 - reading enforces the limit
            except RequestDataTooBig:
                return payload_too_large()
        return self.get_response(request)


class ErrorEnvelopeMiddleware:
    """Rewrites any error response that is not already JSON (Django's 404 and 500 pages, a
    plain 405, a CSRF failure) into the error envelope. The admin keeps its own pages, and
    with DJANGO_DEBUG=1 so do debug pages."""

    CODES = {
        400: "bad_request",
        401: "not_authenticated",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        415: "unsupported_media_type",
        429: "throttled",
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code < 400
            or response.get("Content-Type", "").startswith("application/json")
            or request.path.startswith("/admin/")
            or settings.DEBUG
        ):
            return response
        status = response.status_code
        if status >= 500:
            envelope = error_response(*INTERNAL_ERROR, status)
        else:
            code = self.CODES.get(status, "error")
            envelope = error_response(code, HTTPStatus(status).phrase + ".", status)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                envelope[header] = response[header]
        return envelope
