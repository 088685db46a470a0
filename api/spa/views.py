"""The web app (web/) as Django serves it: index.html for every client-side route, and the
small anonymous configuration it reads at start-up. The hashed assets are static files
(collected from web/dist, served by WhiteNoise)."""

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.core.errors import error_response
from api.core.money import format_paise
from api.spa.security import spa_content_security_policy
from api.users.management.commands.seed_demo import DEMO_DOMAIN, DEMO_PASSWORD, STAFF_EMAIL
from api.users.models import User

DEMO_LOGINS_SHOWN = 5


@require_safe
def spa_index(request, path: str = ""):
    """index.html of the built web app; the app's router takes the path from there."""
    try:
        html = settings.SPA_INDEX_FILE.read_bytes()
    except OSError:
        return error_response(
            "web_app_not_built",
            "The web app is not built: run `make run`, or `npm run build` in web/.",
            503,
        )
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    # Always revalidated, so a new build's hashed asset names are picked up at once.
    response["Cache-Control"] = "no-cache"
    # Only the app's pages carry this policy: /api/docs/ (Swagger UI) runs inline scripts.
    # Referrer-Policy and X-Content-Type-Options come with every response (settings).
    response["Content-Security-Policy"] = spa_content_security_policy(request)
    return response


class ClientConfigApi(APIView):
    """What the web app needs to know about this deployment before anyone logs in. Demo
    logins are listed only in demo mode (DEMO_MODE, on by default in local mode only)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="What the web app needs before anyone logs in",
        responses={
            200: inline_serializer(
                "ClientConfig",
                {
                    "demo_mode": serializers.BooleanField(),
                    "demo_password": serializers.CharField(allow_null=True),
                    "demo_logins": inline_serializer(
                        "DemoLogin",
                        {"email": serializers.EmailField(), "full_name": serializers.CharField()},
                        many=True,
                    ),
                    "max_transfer_amount": serializers.CharField(),
                },
            )
        },
    )
    def get(self, request):
        demo = bool(settings.DEMO_MODE)
        logins = []
        if demo:
            users = (
                User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}", is_active=True)
                .exclude(email=STAFF_EMAIL)
                .order_by("email")
                .values("email", "full_name")[:DEMO_LOGINS_SHOWN]
            )
            logins = [{"email": u["email"], "full_name": u["full_name"]} for u in users]
        return Response(
            {
                "demo_mode": demo,
                "demo_password": DEMO_PASSWORD if demo else None,
                "demo_logins": logins,
                "max_transfer_amount": format_paise(settings.MAX_TRANSFER_AMOUNT_PAISE),
            }
        )
