"""Views that exist only in tests: one for each source of an error response."""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_POST
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication

from api.core.exceptions import ApplicationError
from api.core.redis import redis_client
from api.core.throttling import AnonCounterThrottle, ScopedCounterThrottle

SECRET_DETAIL = "secret-detail-that-must-not-leak"


class PartySerializer(serializers.Serializer):
    email = serializers.EmailField()


class LineSerializer(serializers.Serializer):
    quantity = serializers.IntegerField()


class OrderSerializer(serializers.Serializer):
    party = PartySerializer()
    lines = LineSerializer(many=True)
    tags = serializers.ListField(child=serializers.IntegerField(), required=False)

    def validate(self, attrs):
        if attrs["party"]["email"].endswith("@blocked.test"):
            raise serializers.ValidationError("This party is blocked.")
        return attrs


class OrderApi(APIView):
    """Validates a nested body; answers 200 with what it received."""

    permission_classes = [AllowAny]

    def post(self, request):
        serializer = OrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class LinesApi(APIView):
    """Validates a body that is a list at the top level."""

    permission_classes = [AllowAny]

    def post(self, request):
        serializer = LineSerializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class ProtectedApi(APIView):
    """The project's default authentication and permissions."""

    def get(self, request):
        return Response({})


class StaffApi(APIView):
    authentication_classes = [JWTStatelessUserAuthentication]
    permission_classes = [IsAdminUser]

    def get(self, request):
        return Response({})


class TwoPerMinute(AnonRateThrottle):
    rate = "2/min"


class ThrottledApi(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [TwoPerMinute]

    def get(self, request):
        return Response({})


class ApplicationErrorApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise ApplicationError(
            "idempotency_key_reused",
            "This key was used with another body.",
            status=422,
            fields={"Idempotency-Key": ["Already used."]},
        )


class DjangoNotFoundApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise Http404(SECRET_DETAIL)


class DjangoPermissionDeniedApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise PermissionDenied(SECRET_DETAIL)


def _crash():
    raise RuntimeError(SECRET_DETAIL)


def _violate_unique_constraint():
    """A real IntegrityError from PostgreSQL, inside a savepoint so the test can go on."""
    with transaction.atomic():
        ContentType.objects.create(app_label="core", model=SECRET_DETAIL)
        ContentType.objects.create(app_label="core", model=SECRET_DETAIL)


class CrashApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        _crash()


class IntegrityErrorApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        _violate_unique_constraint()


def crash_view(request):
    _crash()


def integrity_error_view(request):
    _violate_unique_constraint()


@require_POST
def post_only_view(request):
    return HttpResponse("posted")


def plain_error_view(request, status):
    """A non-JSON error response carrying the headers the envelope must keep."""
    return HttpResponse(
        "plain text error",
        status=status,
        content_type="text/plain",
        headers={"Allow": "POST", "Retry-After": "7", "WWW-Authenticate": 'Bearer realm="api"'},
    )


class CountedApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedCounterThrottle]
    throttle_scope = "counted"

    def get(self, request):
        return Response({"ok": True})


class ThreePerHour(AnonCounterThrottle):
    rate = "3/hour"


class AnonCountedApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ThreePerHour]

    def get(self, request):
        return Response({"ok": True})


class DefaultThrottledApi(APIView):
    """The project's default throttles."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


def _read_database():
    return ContentType.objects.count()


def _read_redis():
    return redis_client().get("vaultpay:test")


class DatabaseReadApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"count": _read_database()})


class RedisReadApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"value": _read_redis()})


def database_read_view(request):
    return HttpResponse(str(_read_database()))


def redis_read_view(request):
    return HttpResponse(str(_read_redis()))
