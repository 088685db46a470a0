"""REST interface of the payee lookup: who a payment to an email would reach."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.core.schema import errors
from api.core.throttling import ScopedCounterThrottle
from api.users.models import User
from api.users.selectors import user_payee_get


class UserLookupApi(APIView):
    throttle_classes = [ScopedCounterThrottle]
    throttle_scope = "lookup"

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(
            max_length=User._meta.get_field("email").max_length,
            help_text="The payee's email, in any letter case.",
        )

        class Meta:
            ref_name = "PayeeLookup"

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        full_name = serializers.CharField()
        email = serializers.EmailField(help_text="Lower-cased, as stored.")

        class Meta:
            ref_name = "Payee"

    @extend_schema(
        summary="Confirm a payee before paying",
        parameters=[InputSerializer],
        responses={
            200: OutputSerializer,
            400: errors("validation_error", "self_transfer"),
            404: errors("receiver_not_found", note="Unknown and deactivated users alike."),
            429: errors("throttled", note="THROTTLE_LOOKUP per user."),
        },
        description="Confirms a payee before paying, as UPI apps show the registered name: "
        "the active user a payment to this email would reach. Throttled per user "
        "(`THROTTLE_LOOKUP`).",
    )
    def get(self, request):
        serializer = self.InputSerializer(data=request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        payee = user_payee_get(payer=request.user, email=serializer.validated_data["email"])
        return Response(self.OutputSerializer(payee).data)
