"""OpenAPI components every app's views can name in `extend_schema(responses=...)`."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="snake_case; a 500 is always `internal_error`.")
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field, nested fields as dotted paths; `{}` when none.",
    )
    request_id = serializers.CharField(help_text="The same as the X-Request-ID header.")


class ErrorEnvelopeSerializer(serializers.Serializer):
    """The body of every 4xx and 5xx response."""

    error = ErrorSerializer()


NOT_AUTHENTICATED = OpenApiResponse(
    ErrorEnvelopeSerializer,
    description="`not_authenticated`, `token_not_valid` or `authentication_failed`.",
)


class StatelessJwtScheme(SimpleJWTScheme):
    """The same bearer access token, verified from its signed claims without reading the user
    row (the transfer hot path). drf-spectacular needs a scheme name of its own for it."""

    target_class = "api.core.authentication.CachedJwtStatelessAuthentication"
    name = "jwtClaimsAuth"
    priority = 1  # over drf-spectacular's own extension for this class


RETRY_AFTER_HEADER = {
    "schema": {"type": "integer"},
    "description": "Seconds to wait before retrying.",
}
SERVICE_UNAVAILABLE_DESCRIPTION = (
    "`service_unavailable`: PostgreSQL, or Redis for what cannot work without it (the "
    "WebSocket ticket), is unreachable; retry after `Retry-After` seconds (README "
    '"Faults and overload").'
)


def service_unavailable_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation but /healthz may answer 503 in
    the error envelope (an outage), and every 503 carries Retry-After."""
    for path, operations in result["paths"].items():
        if path == "/healthz":
            continue
        for operation in operations.values():
            unavailable = operation["responses"].setdefault(
                "503",
                {
                    "description": SERVICE_UNAVAILABLE_DESCRIPTION,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/ErrorEnvelope"}
                        }
                    },
                },
            )
            unavailable.setdefault("headers", {})["Retry-After"] = RETRY_AFTER_HEADER
    return result
