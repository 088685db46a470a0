"""Accepting money movements: a payment between users and a staff deposit from the treasury.
Both answer 202 with the PENDING transfer at once; Celery settles it (services.py)."""

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication

from api.core.fields import MoneyField
from api.core.schema import ErrorEnvelopeSerializer
from api.core.throttling import ScopedCounterThrottle
from api.transfers.apis.history import TransferOutputSerializer
from api.transfers.idempotency import idempotency_key_parse
from api.transfers.models import Transfer
from api.transfers.payloads import TransferPayload, transfer_payload
from api.transfers.services import deposit_accept, transfer_accept, transfer_request_rejected

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="8-255 visible ASCII characters, chosen by the client once per payment and "
    "sent again with every retry of it. Keys never expire.",
)
ACCEPT_RESPONSES = {
    202: OpenApiResponse(TransferOutputSerializer, description="Accepted: the PENDING transfer."),
    200: OpenApiResponse(
        TransferOutputSerializer,
        description="A replay of a known key with the same request: the transfer as it is "
        "now, with `Idempotent-Replayed: true`.",
    ),
    400: OpenApiResponse(
        ErrorEnvelopeSerializer,
        description="`idempotency_key_required`, `idempotency_key_invalid`, "
        "`validation_error`, `receiver_not_found`, `self_transfer`; nothing stored.",
    ),
    422: OpenApiResponse(
        ErrorEnvelopeSerializer,
        description="`idempotency_key_reused`: the key was used for another request.",
    ),
}


def accepted_response(transfer: Transfer, created: bool) -> Response:
    payload: TransferPayload = transfer_payload(transfer)
    response = Response(payload, status=202 if created else 200)
    response["Location"] = f"/api/wallet/transfers/{transfer.uuid}/"
    if not created:
        response["Idempotent-Replayed"] = "true"
    return response


class TransferCreateApi(APIView):
    # The hot path trusts the signed token's claims instead of reading the user row; the
    # settler checks that both users are still active before money moves.
    authentication_classes = [JWTStatelessUserAuthentication]
    throttle_classes = [ScopedCounterThrottle]
    throttle_scope = "transfer"

    class InputSerializer(serializers.Serializer):
        receiver_email = serializers.CharField(max_length=254)
        amount = MoneyField()
        note = serializers.CharField(
            required=False, default="", allow_blank=True, trim_whitespace=False
        )

        class Meta:
            ref_name = "TransferCreate"

    @extend_schema(
        request=InputSerializer, parameters=[IDEMPOTENCY_KEY], responses=ACCEPT_RESPONSES
    )
    def post(self, request):
        data = request.data  # checks in contract order: body, key, key lookup, validation
        key = idempotency_key_parse(request.headers.get("Idempotency-Key"))
        sender_user_id = uuid.UUID(str(request.user.id))
        serializer = self.InputSerializer(data=data)
        if not serializer.is_valid():
            raise transfer_request_rejected(
                sender_user_id=sender_user_id, idempotency_key=key, fields=serializer.errors
            )
        transfer, created = transfer_accept(
            sender_user_id=sender_user_id, idempotency_key=key, **serializer.validated_data
        )
        return accepted_response(transfer, created)


class DepositCreateApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        amount = MoneyField()

        class Meta:
            ref_name = "DepositCreate"

    @extend_schema(
        request=InputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses=ACCEPT_RESPONSES,
        description="Staff only. Keys are scoped to the treasury and shared by all staff.",
    )
    def post(self, request):
        data = request.data
        key = idempotency_key_parse(request.headers.get("Idempotency-Key"))
        serializer = self.InputSerializer(data=data)
        if not serializer.is_valid():
            raise transfer_request_rejected(
                sender_user_id=None, idempotency_key=key, fields=serializer.errors
            )
        transfer, created = deposit_accept(
            staff_user_id=request.user.pk,
            receiver_email=serializer.validated_data["email"],
            amount=serializer.validated_data["amount"],
            idempotency_key=key,
        )
        return accepted_response(transfer, created)
