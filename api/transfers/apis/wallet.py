"""REST interface of the caller's wallet: balance and daily cash flow. Reads only.

Responses are the selectors' payloads as built; each OutputSerializer documents that shape.
"""

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.core.fields import DigitsIntegerField, MoneyField
from api.core.schema import errors
from api.transfers.selectors import account_balance_get, account_cashflow_get


class BalanceGetApi(APIView):
    class OutputSerializer(serializers.Serializer):
        balance = MoneyField()
        pending_out = MoneyField(help_text="Total of the caller's outgoing PENDING transfers.")
        available = MoneyField(help_text="balance - pending_out; negative when overcommitted.")
        currency = serializers.CharField(help_text='"INR"')
        updated_at = serializers.DateTimeField()

        class Meta:
            ref_name = "Balance"

    @extend_schema(summary="The caller's balance", responses={200: OutputSerializer})
    def get(self, request):
        return Response(account_balance_get(account=request.user.account))


class CashflowGetApi(APIView):
    class InputSerializer(serializers.Serializer):
        days = DigitsIntegerField(
            min_value=1, max_value=365, default=30, help_text="How many days, ending today."
        )

    class OutputSerializer(serializers.Serializer):
        timezone = serializers.CharField(help_text=f'"{settings.DISPLAY_TIME_ZONE}"')
        days = inline_serializer(
            "CashflowDay",
            {
                "date": serializers.DateField(),
                "in": MoneyField(),
                "out": MoneyField(help_text='Unsigned, like "in".'),
                "balance": MoneyField(help_text="At the end of the day."),
            },
            many=True,
        )

        class Meta:
            ref_name = "Cashflow"

    @extend_schema(
        summary="Money in and out per day",
        parameters=[InputSerializer],
        responses={
            200: OutputSerializer,
            400: errors("validation_error", note="Naming `days`: not a whole number 1-365."),
        },
        description="Money in and out of the caller's wallet per calendar day in "
        f"{settings.DISPLAY_TIME_ZONE}, oldest first, ending today: exactly `days` rows, days "
        "without transfers as zeros. SUCCESS transfers only.",
    )
    def get(self, request):
        serializer = self.InputSerializer(data=request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        return Response(
            account_cashflow_get(
                account=request.user.account, days=serializer.validated_data["days"]
            )
        )
