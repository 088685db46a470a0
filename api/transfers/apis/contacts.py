"""REST interface of the caller's contacts: the people they paid, to pay again."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.transfers.selectors import user_contacts_list


class ContactsListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        results = inline_serializer(
            "Contact",
            {
                "id": serializers.UUIDField(),
                "full_name": serializers.CharField(),
                "email": serializers.EmailField(),
                "last_paid_at": serializers.DateTimeField(
                    help_text="When the latest successful payment to them was made."
                ),
                "times_paid": serializers.IntegerField(
                    min_value=1, help_text="Successful payments to them."
                ),
            },
            many=True,
        )

        class Meta:
            ref_name = "Contacts"

    @extend_schema(
        summary="The people the caller paid",
        responses={200: OutputSerializer},
        description="Up to 20 active users the caller paid successfully, most recently paid "
        "first (deposits and the welcome credit come from the treasury, which is never a "
        "contact; deactivated users are left out).",
    )
    def get(self, request):
        return Response({"results": user_contacts_list(user_id=request.user.pk)})
