"""OpenAPI components every app's views can name in `extend_schema(responses=...)`."""

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
