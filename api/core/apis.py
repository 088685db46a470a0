import functools

import redis
from django.conf import settings
from django.db import connection
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from redis.backoff import NoBackoff
from redis.retry import Retry
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.core.errors import SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS
from api.core.exceptions import ApplicationError
from api.core.heartbeats import ALIVE_SECONDS, workers_alive
from api.core.redis import REQUEST_TIMEOUT_SECONDS
from api.core.schema import errors


class HealthApi(APIView):
    """200 while the process runs; touches nothing else."""

    answers_without_services = True  # no 503 in its schema
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        summary="The process runs",
        responses={200: inline_serializer("Health", {"status": serializers.CharField()})},
    )
    def get(self, request):
        return Response({"status": "ok"})


# Each check answers whether its service is up; any failure means "not ready" (the reason
# stays in our logs).


def _database_up() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return False
    return True


def _redis_up(url: str) -> bool:
    # The request path's limits: a frozen Redis reads as down within 250 ms.
    client = redis.Redis.from_url(
        url,
        socket_timeout=REQUEST_TIMEOUT_SECONDS,
        socket_connect_timeout=REQUEST_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        return client.ping()
    except redis.RedisError:
        return False
    finally:
        client.close()


_DOWN = {"workers": f"no worker alive within {ALIVE_SECONDS:g} s"}


def _workers_up() -> bool:
    try:
        return workers_alive() > 0
    except redis.RedisError:
        return False


class ReadinessApi(APIView):
    """200 when the database, Redis and the Celery broker answer, and with `?deep=1` when a
    Celery worker marked itself alive within ALIVE_SECONDS; 503 naming what is down, within
    about half a second when Redis is frozen."""

    answers_without_services = True  # its 503 is its own `not_ready`
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        summary="The services answer",
        parameters=[
            OpenApiParameter(
                "deep",
                OpenApiTypes.INT,
                enum=[1],
                description="1: also require a live Celery worker (a heartbeat within "
                f"{ALIVE_SECONDS:g} s), else 503 naming `workers`.",
            )
        ],
        responses={
            200: inline_serializer(
                "Readiness",
                {
                    "status": serializers.CharField(),
                    "checks": serializers.DictField(child=serializers.CharField()),
                },
            ),
            503: errors("not_ready"),
        },
    )
    def get(self, request):
        redis_up = functools.cache(_redis_up)  # Redis and the broker are usually one server
        checks = {
            "database": _database_up,
            "redis": lambda: redis_up(settings.REDIS_URL),
            "broker": lambda: redis_up(settings.CELERY_BROKER_URL),
        }
        deep = request.query_params.get("deep")
        if deep not in (None, "1"):  # as the schema says: a value given is checked
            raise serializers.ValidationError({"deep": ['Only "1" is a value.']})
        if deep == "1":
            checks["workers"] = _workers_up
        down = {name: [_DOWN.get(name, "unreachable")] for name, c in checks.items() if not c()}
        if down:
            raise ApplicationError(
                "not_ready",
                f"Not ready: {', '.join(down)} down.",
                status=503,
                fields=down,
                retry_after=SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS,
            )
        return Response({"status": "ready", "checks": {name: "ok" for name in checks}})
