"""REST interface of the caller's transfers: one transfer, and the history list.

Responses are built by payloads.transfer_payload; each OutputSerializer documents the shape.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.models import Account
from api.core.fields import MoneyField
from api.core.pagination import CursorPagination
from api.core.schema import NOT_AUTHENTICATED, ErrorEnvelopeSerializer
from api.transfers.models import Transfer
from api.transfers.payloads import transfer_payload
from api.transfers.selectors import transfer_history_list, transfer_visible_get

DIRECTIONS = ["in", "out"]


class PartyOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True, help_text="null for the treasury.")
    full_name = serializers.CharField(help_text='"VaultPay" for the treasury.')
    email = serializers.EmailField(allow_null=True, help_text="null for the treasury.")

    class Meta:
        ref_name = "Party"


class TransferOutputSerializer(serializers.Serializer):
    """The transfer JSON of contract section 4 (payloads.transfer_payload)."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Transfer.Status.choices)
    failure_code = serializers.ChoiceField(choices=Transfer.FailureCode.choices, allow_null=True)
    amount = MoneyField()
    currency = serializers.CharField(help_text='"INR"')
    note = serializers.CharField(allow_blank=True)
    sender = PartyOutputSerializer()
    receiver = PartyOutputSerializer()
    created_at = serializers.DateTimeField()
    settled_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "Transfer"


class TransferGetApi(APIView):
    @extend_schema(
        responses={
            200: TransferOutputSerializer,
            401: NOT_AUTHENTICATED,
            404: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="`not_found`: a malformed or unknown id, or a transfer the caller "
                "may not see.",
            ),
        },
        description="Visible to its sender, to its receiver once SUCCESS, and to staff when "
        "the treasury is a party.",
    )
    def get(self, request, transfer_id: str):
        transfer = transfer_visible_get(transfer_id=transfer_id, user=request.user)
        return Response(transfer_payload(transfer))


def _history_row(transfer: Transfer, *, account: Account) -> dict:
    """The transfer seen from `account`: the other side is the counterparty."""
    payload = transfer_payload(transfer)
    outgoing = transfer.sender_id == account.pk
    return {
        "id": payload["id"],
        "direction": "out" if outgoing else "in",
        "counterparty": payload["receiver"] if outgoing else payload["sender"],
        "amount": payload["amount"],
        "status": payload["status"],
        "failure_code": payload["failure_code"],
        "note": payload["note"],
        "created_at": payload["created_at"],
        "settled_at": payload["settled_at"],
    }


class HistoryListApi(APIView):
    pagination_class = CursorPagination

    class InputSerializer(serializers.Serializer):
        direction = serializers.ChoiceField(choices=DIRECTIONS, required=False)
        status = serializers.ChoiceField(choices=Transfer.Status.choices, required=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        direction = serializers.ChoiceField(choices=DIRECTIONS)
        counterparty = PartyOutputSerializer()
        amount = MoneyField(help_text='Unsigned: "direction" tells which way it went.')
        status = serializers.ChoiceField(choices=Transfer.Status.choices)
        failure_code = serializers.ChoiceField(
            choices=Transfer.FailureCode.choices, allow_null=True
        )
        note = serializers.CharField(allow_blank=True)
        created_at = serializers.DateTimeField()
        settled_at = serializers.DateTimeField(allow_null=True)

        class Meta:
            ref_name = "HistoryRow"

    @extend_schema(
        parameters=[InputSerializer],
        responses={
            200: OutputSerializer(many=True),
            400: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="`validation_error` naming `direction`, `status`, `page_size` "
                "(1 to 100) or `cursor`.",
            ),
            401: NOT_AUTHENTICATED,
        },
        description="The caller's transfers, newest first: all outgoing ones, incoming ones "
        "once SUCCESS. Follow `next` and `previous` as given.",
    )
    def get(self, request):
        filters = self.InputSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        account = request.user.account
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            transfer_history_list(account=account, **filters.validated_data), request, view=self
        )
        return paginator.get_paginated_response(
            [_history_row(transfer, account=account) for transfer in page]
        )
