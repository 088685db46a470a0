"""REST interface of realtime: the WebSocket ticket."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.core.schema import errors
from api.core.socket_url import socket_url
from api.core.throttling import ScopedCounterThrottle
from realtime.auth import ticket_issue


class TicketCreateApi(APIView):
    throttle_classes = [ScopedCounterThrottle]
    throttle_scope = "ticket"

    class OutputSerializer(serializers.Serializer):
        ticket = serializers.CharField(help_text="Single use; pass it as `?ticket=`.")
        expires_in = serializers.IntegerField(help_text="Seconds the ticket stays valid (30).")
        url = serializers.CharField(
            help_text="Absolute WebSocket URL to open (may be another port of the same host)."
        )

        class Meta:
            ref_name = "RealtimeTicket"

    @extend_schema(
        summary="A single-use WebSocket ticket",
        request=None,
        responses={
            200: OutputSerializer,
            429: errors("throttled", note="THROTTLE_TICKET per user."),
            503: errors(
                "service_unavailable", note="Tickets live in Redis: also while Redis is down."
            ),
        },
        description="A single-use ticket, valid 30 s, for "
        "`WS <url>?ticket=T[&after_seq=N]` (docs/socket-protocol.md): `hello` with the latest seq, "
        "the stored events after `after_seq` in order, then live `transfer.updated` and "
        "`balance.updated`. Close codes: 4401 bad ticket or deactivated user, 4400 malformed "
        "`after_seq`, 4410 too far behind or past retention (reload over REST), 4429 too slow "
        "(reconnect with `after_seq`).",
    )
    def post(self, request):
        ticket = ticket_issue(user_id=request.user.pk)
        return Response(
            {
                "ticket": ticket,
                "expires_in": settings.REALTIME_TICKET_TTL_SECONDS,
                "url": socket_url(host=request.get_host(), secure=request.is_secure()),
            }
        )
