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
