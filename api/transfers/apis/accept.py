"""Accepting money movements: a payment between users and a staff deposit from the treasury.
Both answer 202 with the PENDING transfer at once; Celery settles it (services.py)."""

import json
import uuid
from functools import lru_cache

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import APIException
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAdminUser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.core.authentication import CachedJwtStatelessAuthentication
from api.core.exceptions import ApplicationError
from api.core.fields import DocumentedCharField, MoneyField
from api.core.money import parse_paise
from api.core.schema import errors, not_blank_pattern
from api.core.throttling import ScopedCounterThrottle
from api.transfers.apis.history import TransferOutputSerializer
from api.transfers.idempotency import KEY_SCHEMA_PATTERN, idempotency_key_parse
from api.transfers.models import Transfer
from api.transfers.payloads import TransferPayload, transfer_payload
from api.transfers.services import (
    deposit_accept,
    transfer_accept,
    transfer_accept_fast,
    transfer_request_rejected,
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 8, "maxLength": 257, "pattern": KEY_SCHEMA_PATTERN},
    OpenApiParameter.HEADER,
    required=True,
    description="8-255 visible ASCII characters (0x21-0x7E), optionally in double quotes, "
    "chosen by the client once per payment and sent again with every retry of it. Keys never "
    "expire.",
)
TRANSFER_LOCATION = OpenApiParameter(
    "Location",
    {"type": "string", "pattern": "^/api/wallet/transfers/[0-9a-f-]{36}/$"},
    OpenApiParameter.HEADER,
    required=True,
    response=[200, 202],
    description="Where to poll the transfer.",
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    {"type": "string", "enum": ["true"]},
    OpenApiParameter.HEADER,
    required=True,
    response=[200],
    description="This answer is a replay of a known key.",
)
ACCEPT_PARAMETERS = [IDEMPOTENCY_KEY, TRANSFER_LOCATION, IDEMPOTENT_REPLAYED]


def _accept_responses(*refusals: str) -> dict:
    """The responses of an accept endpoint whose requests may also be refused with the
    400 `refusals`."""
    return {
        202: OpenApiResponse(
            TransferOutputSerializer, description="Accepted: the PENDING transfer."
        ),
        200: OpenApiResponse(
            TransferOutputSerializer,
            description="A replay of a known key with the same request: the transfer as it is now.",
        ),
        400: errors(
            "idempotency_key_required",
            "idempotency_key_invalid",
            "validation_error",
            *refusals,
            note="Nothing stored; the key stays unused.",
        ),
        422: errors("idempotency_key_reused"),
        503: errors("overloaded", "service_unavailable"),
    }


def accepted_response(transfer: Transfer, created: bool) -> Response:
    payload = transfer_payload(transfer)
    return _accept_headers(Response(payload), payload, created)


def _accept_headers(response: HttpResponse, payload: TransferPayload, created: bool):
    response.status_code = 202 if created else 200
    response["Location"] = f"/api/wallet/transfers/{payload['id']}/"
    if not created:
        response["Idempotent-Replayed"] = "true"
    return response


class TransferCreateApi(APIView):
    # The hot path trusts the signed token's claims instead of reading the user row; the
    # settler checks that both users are still active before money moves.
    authentication_classes = [CachedJwtStatelessAuthentication]
    throttle_classes = [ScopedCounterThrottle]
    throttle_scope = "transfer"

    class InputSerializer(serializers.Serializer):
        receiver_email = DocumentedCharField(
            max_length=254,
            schema={"pattern": not_blank_pattern()},
            help_text="The payee's email, in any letter case.",
        )
        amount = MoneyField(maximum_setting="MAX_TRANSFER_AMOUNT_PAISE")
        note = DocumentedCharField(
            required=False,
            default="",
            allow_blank=True,
            trim_whitespace=False,
            schema={"maxLength": Transfer._meta.get_field("note").max_length},  # the service's
        )

        class Meta:
            ref_name = "TransferCreate"

    def dispatch(self, request, *args, **kwargs):
        # The hot path: a well-formed request is answered in one SQL
        # statement without DRF's request, serializer and renderer. Anything else, and every
        # case that statement cannot decide, takes the full path, which decides them all.
        fast = self._fast_post(request) if settings.TRANSFER_ACCEPT_FAST_PATH else None
        return fast if fast is not None else super().dispatch(request, *args, **kwargs)

    def _fast_post(self, request: HttpRequest) -> HttpResponse | None:
        # The order of checks (README, "API"): authentication before the body is even parsed.
        if request.method != "POST" or request.META.get("QUERY_STRING"):
            return None  # a query string may name a `?format=`: the full path negotiates it
        negotiated = tuple(
            (name, request.META[name]) for name in _NEGOTIATED if name in request.META
        )
        if not _negotiates_compact_json(type(self), negotiated):
            return None
        try:
            authenticated = CachedJwtStatelessAuthentication().authenticate(request)
        except APIException:
            return None
        if authenticated is None:
            return None
        fields = _well_formed_fields(request)
        if fields is None:
            return None
        try:
            key = idempotency_key_parse(request.headers.get("Idempotency-Key"))
        except ApplicationError:
            return None
        request.user = authenticated[0]
        if not ScopedCounterThrottle().allow_request(request, self):
            return None
        request.throttle_counted = True  # the full path must not count this request again
        accepted = transfer_accept_fast(
            sender_user_id=uuid.UUID(str(request.user.id)),
            idempotency_key=key,
            request_id=request.request_id,
            **fields,
        )
        if accepted is None:
            return None
        payload, created = accepted
        # orjson: the same bytes as json.dumps(ensure_ascii=False, compact) in a twentieth of
        # the time (loadtests/results/pipeline-notes.md).
        response = HttpResponse(orjson.dumps(payload), content_type="application/json")
        return _accept_headers(response, payload, created)

    @extend_schema(
        summary="Pay someone",
        request=InputSerializer,
        parameters=ACCEPT_PARAMETERS,
        responses=_accept_responses("receiver_not_found", "self_transfer"),
    )
    def post(self, request):
        data = request.data  # checks in order: body, key, key lookup, validation
        key = idempotency_key_parse(request.headers.get("Idempotency-Key"))
        sender_user_id = uuid.UUID(str(request.user.id))
        serializer = self.InputSerializer(data=data)
        if not serializer.is_valid():
            raise transfer_request_rejected(
                sender_user_id=sender_user_id, idempotency_key=key, fields=serializer.errors
            )
        transfer, created = transfer_accept(
            sender_user_id=sender_user_id,
            idempotency_key=key,
            request_id=request.request_id,
            **serializer.validated_data,
        )
        return accepted_response(transfer, created)


# What DRF's content negotiation reads of a request without a query string.
_NEGOTIATED = ("CONTENT_TYPE", "HTTP_CONTENT_TYPE", "HTTP_ACCEPT")


@lru_cache(maxsize=256)
def _negotiates_compact_json(view_class: type[APIView], meta: tuple[tuple[str, str], ...]) -> bool:
    """Whether the full path, for a request with these headers (`_NEGOTIATED`), reads the body
    with its JSON parser and answers in compact JSON, as the hot path does. Its content
    negotiation answers 415 to a Content-Type it does not parse (also to one longer than it
    reads), 406 to an Accept header that admits no JSON, and indents for
    `Accept: application/json; indent=4`.

    Negotiating costs about 40 us, a few percent of the hot path, and clients send the same
    few headers with every request: the answers are remembered by the headers' exact text."""
    request = HttpRequest()
    request.META = dict(meta)
    view, drf_request = view_class(), Request(request)
    negotiator = view.get_content_negotiator()
    if not isinstance(negotiator.select_parser(drf_request, view.get_parsers()), JSONParser):
        return False
    try:
        renderer, media_type = negotiator.select_renderer(drf_request, view.get_renderers())
    except APIException:
        return False
    return isinstance(renderer, JSONRenderer) and renderer.get_indent(media_type, {}) is None


def _well_formed_fields(request: HttpRequest) -> dict | None:
    """The transfer fields of a JSON body that is an object with no other fields, each
    well-typed, the amount well-formed; else None (the serializer then says what is wrong).

    The body is decoded as UTF-8, as the full path's parser does: json.loads would detect
    UTF-16 and UTF-32 in bytes by itself and accept what the full path refuses."""
    try:
        body = json.loads(request.body.decode("utf-8"))
    except (ValueError, RecursionError):  # the full path answers 400 malformed_request
        return None
    if not isinstance(body, dict) or not body.keys() <= {"receiver_email", "amount", "note"}:
        return None
    email, note = body.get("receiver_email"), body.get("note", "")
    amount = parse_paise(body.get("amount"))
    if not (isinstance(email, str) and len(email) <= 254 and isinstance(note, str)):
        return None
    if amount is None or not _storable(email + note):
        return None
    return {"receiver_email": email, "amount": amount, "note": note}


def _storable(text: str) -> bool:
    """No NUL (PostgreSQL refuses it) and no lone surrogate (not encodable as UTF-8)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


class DepositCreateApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        email = DocumentedCharField(
            max_length=254,
            schema={"pattern": not_blank_pattern()},
            help_text="The receiver's email, in any letter case.",
        )
        amount = MoneyField(maximum_setting="MAX_DEPOSIT_AMOUNT_PAISE")

        class Meta:
            ref_name = "DepositCreate"

    @extend_schema(
        summary="Deposit from the treasury",
        request=InputSerializer,
        parameters=ACCEPT_PARAMETERS,
        responses=_accept_responses("receiver_not_found"),
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
            request_id=request.request_id,
        )
        return accepted_response(transfer, created)
