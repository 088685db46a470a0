"""REST interface of the caller's transfers: one transfer, and the history list.

Responses are built by payloads.transfer_payload; each OutputSerializer documents the shape.
"""

import re
from datetime import date

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.models import Account
from api.core.fields import MoneyField
from api.core.pagination import CursorPagination
from api.core.schema import errors
from api.transfers.models import Transfer
from api.transfers.payloads import transfer_payload
from api.transfers.selectors import transfer_history_list, transfer_visible_get

DIRECTIONS = ["in", "out"]
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# Years 0001-9999, as Python's dates (the `date` format of RFC 3339 also allows 0000).
ISO_DATE_SCHEMA_PATTERN = (
    "^(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}$"
)


@extend_schema_field({"type": "string", "format": "date", "pattern": ISO_DATE_SCHEMA_PATTERN})
class IsoDateField(serializers.DateField):
    """A calendar date written exactly `YYYY-MM-DD` (Python would also take `2026-3-5`,
    `20260305` or week dates)."""

    default_error_messages = {"invalid": "Enter a date as YYYY-MM-DD."}

    def to_internal_value(self, value) -> date:
        if not (isinstance(value, str) and ISO_DATE.fullmatch(value)):
            self.fail("invalid")
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail("invalid")


class PartyOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True, help_text="null for the treasury.")
    full_name = serializers.CharField(help_text='"VaultPay" for the treasury.')
    email = serializers.EmailField(allow_null=True, help_text="null for the treasury.")

    class Meta:
        ref_name = "Party"


class TransferOutputSerializer(serializers.Serializer):
    """The transfer JSON (payloads.transfer_payload)."""

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
        summary="One transfer",
        parameters=[
            OpenApiParameter("transfer_id", OpenApiTypes.UUID, OpenApiParameter.PATH),
        ],
        responses={
            200: TransferOutputSerializer,
            404: errors(
                "not_found", note="A malformed or unknown id, or a transfer the caller may not see."
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
        q = serializers.CharField(
            required=False,
            min_length=1,
            max_length=64,
            trim_whitespace=False,
            help_text="1-64 characters: a case-insensitive substring of the counterparty's "
            'full name or email, or of the note, matched literally ("%" and "_" are no '
            'wildcards). The treasury\'s name is "VaultPay".',
        )
        from_ = IsoDateField(
            required=False,
            help_text=f"YYYY-MM-DD in {settings.DISPLAY_TIME_ZONE}: transfers created on or "
            "after this day.",
        )
        to = IsoDateField(
            required=False,
            help_text=f"YYYY-MM-DD in {settings.DISPLAY_TIME_ZONE}: transfers created on or "
            "before this day.",
        )

        def get_fields(self):
            # `from` is a Python keyword, so the field is declared as `from_`.
            return {
                "from" if name == "from_" else name: field
                for name, field in super().get_fields().items()
            }

        def validate(self, attrs):
            if "from" in attrs and "to" in attrs and attrs["from"] > attrs["to"]:
                raise serializers.ValidationError({"to": ["Must not be before `from`."]})
            return attrs

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
        summary="The caller's transfers",
        parameters=[InputSerializer],
        responses={
            200: OutputSerializer(many=True),
            400: errors(
                "validation_error",
                note="Naming `direction`, `status`, `q`, `from` or `to` (`to` before `from` "
                "included), `page_size` or `cursor`. A parameter given blank is checked, not "
                "ignored.",
            ),
        },
        description="The caller's transfers, newest first: all outgoing ones, incoming ones "
        "once SUCCESS. Every filter given applies (`direction`, `status`, `q`, `from`, `to`); "
        "`from` and `to` are calendar days in "
        f"{settings.DISPLAY_TIME_ZONE}, both inclusive, on `created_at`. Follow `next` and "
        "`previous` as given: they keep the filters.",
    )
    def get(self, request):
        filters = self.InputSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        account = request.user.account
        paginator = self.pagination_class()
        data = filters.validated_data
        transfers = transfer_history_list(
            account=account,
            direction=data.get("direction"),
            status=data.get("status"),
            q=data.get("q"),
            date_from=data.get("from"),
            date_to=data.get("to"),
        )
        page = paginator.paginate_queryset(transfers, request, view=self)
        return paginator.get_paginated_response(
            [_history_row(transfer, account=account) for transfer in page]
        )
