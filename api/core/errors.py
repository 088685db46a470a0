"""The error envelope (README, "API"), built in one place."""

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

from api.core.redis import UNAVAILABLE_ERRORS as REDIS_UNAVAILABLE_ERRORS
from api.core.request_id import request_id_get


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {
        "error": {
            "code": code,
            "message": message,
            "fields": fields or {},
            "request_id": request_id_get(),
        }
    }


def error_response(
    code: str, message: str, status: int, fields: dict | None = None
) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields), status=status)


INTERNAL_ERROR = ("internal_error", "Something went wrong on our side. Quote the request id.")


# A dependency that is down, frozen or restarting: PostgreSQL (a refused or dropped
# connection, a server shutting down) or Redis. Answered 503 `service_unavailable` with
# Retry-After, never 500 (README "Faults and overload").
SERVICE_UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, *REDIS_UNAVAILABLE_ERRORS)
SERVICE_UNAVAILABLE = ("service_unavailable", "A service VaultPay depends on is unavailable.")
SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS = 5


def service_unavailable_response() -> JsonResponse:
    response = error_response(*SERVICE_UNAVAILABLE, 503)
    response["Retry-After"] = str(SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS)
    return response
