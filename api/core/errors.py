"""The error envelope of contract section 2, built in one place."""

from django.http import JsonResponse

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
