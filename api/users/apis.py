"""REST interface of the users app: one class per operation, one service call each."""

import ipaddress

from django.contrib.auth import password_validation
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from api.core.exceptions import ApplicationError
from api.core.fields import DocumentedCharField, StringField
from api.core.schema import EMAIL_PATTERN, errors, not_blank_pattern, stripped_pattern
from api.core.throttling import ScopedCounterThrottle
from api.users.login_failures import login_failure_record, login_failures_wait
from api.users.services import (
    EMAIL_MAX_LENGTH,
    FULL_NAME_MAX_LENGTH,
    PHONE_PATTERN,
    token_refresh,
    token_revoke,
    user_aadhaar_reveal,
    user_aadhaar_reveal_refused,
    user_login,
    user_register,
)

# Twelve digits, the first 2-9, with ASCII spaces anywhere (aadhaar.normalize drops them).
AADHAAR_SCHEMA_PATTERN = "^ *[2-9](?: *[0-9]){11} *$"


def _password_min_length() -> int:
    """The shortest password Django's validators accept (MinimumLengthValidator)."""
    lengths = [
        validator.min_length
        for validator in password_validation.get_default_password_validators()
        if isinstance(validator, password_validation.MinimumLengthValidator)
    ]
    return max(lengths, default=1)


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
    aadhaar_masked = DocumentedCharField(schema={"pattern": "^XXXX XXXX [0-9]{4}$"})
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
        # invalid field in one answer. The schema states the rules a pattern can.
        email = DocumentedCharField(
            allow_blank=True,
            schema={"pattern": EMAIL_PATTERN, "maxLength": EMAIL_MAX_LENGTH},
            help_text="Any letter case; unique.",
        )
        password = DocumentedCharField(
            trim_whitespace=False,
            allow_blank=True,
            schema={"minLength": _password_min_length()},
            help_text="Also refused: common passwords, all-digit ones, and ones too like the "
            "email or name (Django's password validators).",
        )
        full_name = DocumentedCharField(
            allow_blank=True,
            schema={"pattern": not_blank_pattern(max_length=FULL_NAME_MAX_LENGTH)},
            help_text=f"1-{FULL_NAME_MAX_LENGTH} characters once surrounding spaces are trimmed.",
        )
        phone = DocumentedCharField(
            required=False,
            allow_blank=True,
            allow_null=True,
            schema={"pattern": stripped_pattern(f"(?:{PHONE_PATTERN.pattern})?")},
            help_text="+91 and 10 digits starting with 6-9, or the 10 digits; blank or null "
            "for none.",
        )
        aadhaar = DocumentedCharField(
            trim_whitespace=False,
            allow_blank=True,
            schema={"pattern": AADHAAR_SCHEMA_PATTERN},
            help_text="12 digits, the first 2-9, the last a Verhoeff check digit; ASCII spaces "
            'are ignored: "2345 6789 0124". Unique.',
        )

        class Meta:
            ref_name = "UserRegister"

    @extend_schema(
        summary="Register a customer",
        request=InputSerializer,
        responses={
            201: UserOutputSerializer,
            400: errors("validation_error", note="Taken emails and Aadhaar numbers included."),
        },
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
        email = DocumentedCharField(schema={"pattern": not_blank_pattern()})
        password = StringField(trim_whitespace=False)

        class Meta:
            ref_name = "UserLogin"

    class OutputSerializer(serializers.Serializer):
        access = serializers.CharField()
        refresh = serializers.CharField()
        user = UserOutputSerializer()

        class Meta:
            ref_name = "UserLoginResult"

    @extend_schema(
        summary="Log in",
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            401: errors("invalid_credentials"),
            429: errors(
                "throttled",
                note="Too many logins from this address (THROTTLE_LOGIN), or too many failed "
                "logins for this email from anywhere (THROTTLE_LOGIN_FAILURES; unknown emails "
                "alike), refused without looking at the password.",
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
        refresh = DocumentedCharField(schema={"pattern": not_blank_pattern()})

        class Meta:
            ref_name = "TokenRefresh"

    @extend_schema(
        summary="Rotate a refresh token",
        request=InputSerializer,
        responses={200: TokenPairOutputSerializer, 401: errors("token_not_valid")},
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
        refresh = DocumentedCharField(schema={"pattern": not_blank_pattern()})

        class Meta:
            ref_name = "Logout"

    @extend_schema(
        summary="Log out",
        request=InputSerializer,
        responses={
            205: OpenApiResponse(description="Logged out; empty body."),
            401: errors("token_not_valid"),
            403: errors("token_not_owned"),
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
    @extend_schema(summary="The caller's profile", responses={200: UserOutputSerializer})
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)


class UserAadhaarRevealApi(APIView):
    throttle_classes = [ScopedCounterThrottle]
    throttle_scope = "reveal"

    class InputSerializer(serializers.Serializer):
        password = StringField(trim_whitespace=False)

        class Meta:
            ref_name = "AadhaarReveal"

    class OutputSerializer(serializers.Serializer):
        aadhaar = DocumentedCharField(schema={"pattern": "^[2-9][0-9]{3} [0-9]{4} [0-9]{4}$"})

        class Meta:
            ref_name = "AadhaarRevealResult"

    @extend_schema(
        summary="Reveal the caller's Aadhaar number",
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            403: errors("wrong_password"),
            409: errors("aadhaar_unreadable"),
            429: errors("throttled", note="THROTTLE_REVEAL per user; refused calls are audited."),
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
