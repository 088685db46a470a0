"""REST interface of the users app: one class per operation, one service call each."""

import ipaddress

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from api.core.exceptions import ApplicationError
from api.core.schema import NOT_AUTHENTICATED, ErrorEnvelopeSerializer
from api.core.throttling import ScopedCounterThrottle
from api.users.login_failures import login_failure_record, login_failures_wait
from api.users.services import (
    token_refresh,
    token_revoke,
    user_aadhaar_reveal,
    user_aadhaar_reveal_refused,
    user_login,
    user_register,
)

INVALID_FIELDS = OpenApiResponse(
    ErrorEnvelopeSerializer, description="`validation_error`, naming each field in `fields`."
)
THROTTLED = OpenApiResponse(ErrorEnvelopeSerializer, description="`throttled`, with `Retry-After`.")
TOKEN_NOT_VALID = OpenApiResponse(
    ErrorEnvelopeSerializer,
    description="`token_not_valid`: malformed, expired, already used or logged out.",
)


def _client_ip(request) -> str | None:
    """The client address as the throttles see it (NUM_PROXIES), when it is an IP address."""
    ident = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address(ident))
    except ValueError:
        return None


class UserOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    phone = serializers.SerializerMethodField()
    aadhaar_masked = serializers.CharField()
    is_staff = serializers.BooleanField()
    date_joined = serializers.DateTimeField()

    class Meta:
        ref_name = "User"

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_phone(self, user) -> str | None:
        return user.phone or None


class UserRegisterApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedCounterThrottle]
    throttle_scope = "register"

    class InputSerializer(serializers.Serializer):
        # Only the shape is checked here; the service checks every rule and names every
        # invalid field in one answer.
        email = serializers.CharField(allow_blank=True)
        password = serializers.CharField(trim_whitespace=False, allow_blank=True)
        full_name = serializers.CharField(allow_blank=True)
        phone = serializers.CharField(
            required=False,
            allow_blank=True,
            allow_null=True,
            help_text="+91 and 10 digits starting with 6-9, or the 10 digits.",
        )
        aadhaar = serializers.CharField(
            trim_whitespace=False,
            allow_blank=True,
            help_text='12 digits; ASCII spaces are ignored: "2345 6789 0124".',
        )

        class Meta:
            ref_name = "UserRegister"

    @extend_schema(
        request=InputSerializer,
        responses={201: UserOutputSerializer, 400: INVALID_FIELDS, 429: THROTTLED},
        auth=[],
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic(durable=True):
            user = user_register(
                email=data["email"],
                password=data["password"],
                full_name=data["full_name"],
                phone=data.get("phone"),
                aadhaar=data["aadhaar"],
            )
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class UserLoginApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedCounterThrottle]
    throttle_scope = "login"

    class InputSerializer(serializers.Serializer):
        # Any string: an unknown address is the same 401 as a wrong password.
        email = serializers.CharField()
        password = serializers.CharField(trim_whitespace=False)

        class Meta:
            ref_name = "UserLogin"

    class OutputSerializer(serializers.Serializer):
        access = serializers.CharField()
        refresh = serializers.CharField()
        user = UserOutputSerializer()

        class Meta:
            ref_name = "UserLoginResult"

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            401: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="`invalid_credentials`, alike for a wrong email, a wrong password "
                "and an inactive user.",
            ),
            429: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="`throttled`, with `Retry-After`: too many logins from this address "
                "(THROTTLE_LOGIN), or too many failed logins for this email from anywhere "
                "(THROTTLE_LOGIN_FAILURES; unknown emails alike), refused without looking at "
                "the password.",
            ),
        },
        auth=[],
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"]
        wait = login_failures_wait(email=email)
        if wait is not None:
            raise exceptions.Throttled(wait=wait)
        try:
            with transaction.atomic(durable=True):
                login = user_login(**serializer.validated_data)
        except ApplicationError as exc:
            if exc.code == "invalid_credentials":
                login_failure_record(email=email)
            raise
        return Response(self.OutputSerializer(login).data)


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()

    class Meta:
        ref_name = "TokenPair"


class TokenRefreshApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField()

        class Meta:
            ref_name = "TokenRefresh"

    @extend_schema(
        request=InputSerializer,
        responses={200: TokenPairOutputSerializer, 401: TOKEN_NOT_VALID},
        auth=[],
        description="Rotates the refresh token: the one sent is dead afterwards. An inactive "
        "user's token is refused with the same 401.",
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic(durable=True):
            pair = token_refresh(**serializer.validated_data)
        return Response(TokenPairOutputSerializer(pair).data)


class UserLogoutApi(APIView):
    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField()

        class Meta:
            ref_name = "Logout"

    @extend_schema(
        request=InputSerializer,
        responses={
            205: OpenApiResponse(description="Logged out; empty body."),
            401: TOKEN_NOT_VALID,
            403: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="`token_not_owned`: the refresh token is another user's; it stays "
                "valid.",
            ),
        },
        description="Logs out: the refresh token sent is dead afterwards. Access tokens live "
        "out their 15 minutes.",
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic(durable=True):
            token_revoke(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_205_RESET_CONTENT)


class UserProfileApi(APIView):
    @extend_schema(responses={200: UserOutputSerializer, 401: NOT_AUTHENTICATED})
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)


class UserAadhaarRevealApi(APIView):
    throttle_classes = [ScopedCounterThrottle]
    throttle_scope = "reveal"

    class InputSerializer(serializers.Serializer):
        password = serializers.CharField(trim_whitespace=False)

        class Meta:
            ref_name = "AadhaarReveal"

    class OutputSerializer(serializers.Serializer):
        aadhaar = serializers.CharField(help_text='"2345 6789 0124"')

        class Meta:
            ref_name = "AadhaarRevealResult"

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            401: NOT_AUTHENTICATED,
            403: OpenApiResponse(ErrorEnvelopeSerializer, description="`wrong_password`."),
            409: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="`aadhaar_unreadable`: the stored ciphertext does not decrypt for "
                "this user (altered or copied from another user's row); nothing is revealed.",
            ),
            429: THROTTLED,
        },
        description="Every attempt is audited, throttled ones included.",
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Autocommit, no atomic block: the audit row must stay when a wrong password raises.
        number = user_aadhaar_reveal(
            user=request.user,
            password=serializer.validated_data["password"],
            ip_address=_client_ip(request),
            request_id=request.request_id,
        )
        return Response(self.OutputSerializer({"aadhaar": number}).data)

    def throttled(self, request, wait):
        user_aadhaar_reveal_refused(
            user=request.user, ip_address=_client_ip(request), request_id=request.request_id
        )
        super().throttled(request, wait)
