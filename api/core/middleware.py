import logging
import time

import structlog
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.wsgi import LimitedStream, WSGIRequest

from api.core.errors import (
    INTERNAL_ERROR,
    SERVICE_UNAVAILABLE_ERRORS,
    error_response,
    service_unavailable_response,
)
from api.core.metrics.catalogue import HTTP_REQUEST_DURATION, HTTP_REQUESTS
from api.core.request_id import request_id_start

logger = logging.getLogger(__name__)
access_logger = structlog.get_logger("vaultpay.access")


class RequestIdMiddleware:
    """Gives every request an id (the client's X-Request-ID when well-formed) and echoes it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_start(request.headers.get("X-Request-ID"))
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


# Any other method (a client may send anything) is counted and logged as "other", which
# keeps the metric's series few.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class AccessLogMiddleware:
    """One log line and one count per request, whatever the server (README, "Operating it").

    The line holds the method, the path without its query string, the view's name, the status
    and the time spent in Django: never headers, bodies or query strings, which may carry
    tokens and personal data. The count and the duration go to in-process metrics, through
    children kept per (view, method, status): prometheus-client's `labels()` costs a few
    microseconds a call, a dict lookup a tenth of one.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._series: dict[tuple, tuple] = {}

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        match = request.resolver_match
        view = match.view_name if match is not None else "unmatched"
        status = response.status_code
        method = request.method if request.method in _METHODS else "other"
        key = (view, method, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (
                HTTP_REQUESTS.labels(*key),
                HTTP_REQUEST_DURATION.labels(view),
            )
        series[0].inc()
        series[1].observe(seconds)
        access_logger.info(
            "request",
            method=method,
            path=request.path,
            view=view,
            status=status,
            duration_ms=round(seconds * 1000, 2),
        )
        return response


def payload_too_large():
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_response(
        "payload_too_large", f"Request bodies are limited to {limit // 1024} KiB.", 413
    )


class BodySizeLimitMiddleware:
    """Answers 413 for bodies over DATA_UPLOAD_MAX_MEMORY_SIZE before any view reads them.

    A declared Content-Length is checked without reading. A chunked body has none, and both
    Django under WSGI and DRF read nothing without one, so it is read here (one byte past the
    limit at most) and its length declared in META for everything downstream.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.isdecimal():
            too_big = int(declared) > limit
        elif "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            too_big = not _read_chunked_body(request, limit)
        else:
            too_big = False  # no body; servers refuse a malformed Content-Length themselves
        return payload_too_large() if too_big else self.get_response(request)


def _read_chunked_body(request, limit: int) -> bool:
    """Reads a body sent without Content-Length; False when it is over `limit` bytes."""
    if isinstance(request, WSGIRequest):
        # WSGIRequest streams at most CONTENT_LENGTH bytes of wsgi.input, which is none here;
        # the server has de-chunked the body into wsgi.input, so stream it from there.
        request._stream = LimitedStream(request.environ["wsgi.input"], limit + 1)
    try:
        body = request.body  # Django checks the size of what it read against the limit
    except RequestDataTooBig:
        return False
    request.META["CONTENT_LENGTH"] = str(len(body))
    return True


class ErrorEnvelopeMiddleware:
    """Rewrites any error response that is not already JSON (Django's 404 and 500 pages, a
    plain 405, a CSRF failure) into the error envelope. The admin keeps its own pages, and
    with DJANGO_DEBUG=1 so do debug pages. A view outside DRF that finds PostgreSQL or Redis
    unreachable answers 503 `service_unavailable` with Retry-After, as DRF views do."""

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
            envelope = error_response(code, f"{response.reason_phrase}.", status)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                envelope[header] = response[header]
        return envelope

    def process_exception(self, request, exception):
        if isinstance(exception, SERVICE_UNAVAILABLE_ERRORS):
            logger.warning("Unavailable at %s: %r", request.path, exception)
            return service_unavailable_response()
        return None
