"""The OpenAPI schema at /api/schema/ (drf-spectacular), made exact (docs/api.md):

- every operation documents every status it can answer: views declare their own errors with
  `errors(...)`, and `AutoSchema` adds those the request pipeline can answer anywhere (a body
  that is not JSON, a missing token, a throttle, an outage...);
- each error response names the `error.code` values it can carry (an enum), so a client, and
  the Schemathesis run of `make test`, can hold the server to them;
- inputs carry the patterns, formats and lengths the server enforces (`MoneyField`,
  `DocumentedCharField`, and no NUL in any string);
- postprocessing hooks add what a view cannot declare: `response_headers` (X-Request-ID on
  every response, Retry-After on every 429 and 503) and `response_links` (OpenAPI links).
"""

import copy

from drf_spectacular import openapi
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser

from api.core.money import OUTPUT_AMOUNT_PATTERN, amount_pattern
from api.core.request_id import CLIENT_REQUEST_ID

# What each `error.code` means, whichever operation answers it (with which status is the
# operation's business).
ERROR_CODES = {
    "validation_error": "A field is invalid; `fields` names each one with its messages.",
    "malformed_request": "The body is not a JSON document.",
    "not_authenticated": "No `Authorization: Bearer <access token>` header.",
    "authentication_failed": "The token's user is unknown or inactive.",
    "token_not_valid": "The token is malformed, expired, or (a refresh token) already used "
    "or logged out.",
    "permission_denied": "Staff only.",
    "not_found": "No such resource, or one the caller may not see.",
    "not_acceptable": "The `Accept` header excludes `application/json`, the only type served.",
    "payload_too_large": "The body is over 64 KiB.",
    "unsupported_media_type": "The body is not sent as `Content-Type: application/json`.",
    "throttled": "Too many requests; retry after `Retry-After` seconds.",
    "service_unavailable": "PostgreSQL, or Redis for what cannot work without it (the "
    "WebSocket ticket), is unreachable; retry after `Retry-After` seconds.",
    "overloaded": "Settlement is behind (more than `MAX_PENDING` transfers PENDING, or the "
    "oldest older than `MAX_PENDING_AGE` seconds); nothing stored, the key stays unused; retry "
    "after `Retry-After` seconds. A known key replays even then.",
    "not_ready": "A service is down; `fields` names which (`database`, `redis`, `broker`, "
    "`workers`).",
    "invalid_credentials": "Wrong email or password, or an inactive user (alike).",
    "token_not_owned": "The refresh token is another user's; it stays valid.",
    "wrong_password": "The password is not the caller's.",
    "aadhaar_unreadable": "The stored ciphertext does not decrypt for this user (altered, or "
    "copied from another user's row); nothing is revealed.",
    "receiver_not_found": "No active user has this email.",
    "self_transfer": "The email is the caller's own.",
    "idempotency_key_required": "No `Idempotency-Key` header.",
    "idempotency_key_invalid": "The `Idempotency-Key` is not 8-255 visible ASCII characters.",
    "idempotency_key_reused": "The key was used for another request (receiver, amount or "
    "note differ).",
}


class ErrorSerializer(serializers.Serializer):
    code = serializers.RegexField(
        r"^[a-z][a-z0-9_]*$", help_text="snake_case; a 500 is always `internal_error`."
    )
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field, nested fields as dotted paths; `{}` when none.",
    )
    request_id = serializers.RegexField(
        f"^{CLIENT_REQUEST_ID.pattern}$", help_text="The same as the X-Request-ID header."
    )


class ErrorEnvelopeSerializer(serializers.Serializer):
    """The body of every 4xx and 5xx response."""

    error = ErrorSerializer()


_ERROR_ENVELOPE_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}


def errors(*codes: str, note: str = "") -> OpenApiResponse:
    """An error response in the envelope whose `error.code` is one of `codes` (each
    explained by ERROR_CODES), with `note` first in its description."""
    unknown = set(codes) - ERROR_CODES.keys()
    if unknown:
        raise ValueError(f"error codes missing from ERROR_CODES: {sorted(unknown)}")
    schema = {
        "allOf": [
            _ERROR_ENVELOPE_REF,
            {"properties": {"error": {"properties": {"code": {"enum": list(codes)}}}}},
        ]
    }
    return OpenApiResponse(schema, description=_describe(codes, note))


def _describe(codes, note: str = "") -> str:
    listed = "\n".join(f"- `{code}`: {ERROR_CODES[code]}" for code in codes)
    return f"{note}\n\n{listed}" if note else listed


def error_codes(response: dict) -> list[str]:
    """The `error.code` enum of a response in the schema made by `errors` (empty for any
    other response); changing the list changes the response."""
    try:
        schema = response["content"]["application/json"]["schema"]
        return schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]
    except (KeyError, IndexError, TypeError):
        return []


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, plus the error responses that the request pipeline can
    answer on top of what each view declares (their codes are merged into a declared one)."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        self.resolve_serializer(ErrorEnvelopeSerializer, "response")  # what errors() refers to
        responses = operation["responses"]
        for status, codes in self._pipeline_errors(operation).items():
            declared = responses.get(status)
            if declared is None:
                responses[status] = self._get_response_for_code(errors(*codes), status)
                continue
            # A copy: views share their declared responses, and the schema is made again
            # on every request for it.
            responses[status] = declared = copy.deepcopy(declared)
            known = error_codes(declared)
            if not known:
                raise ValueError(f"{method} {path}: declare {status} with errors(...)")
            added = [code for code in codes if code not in known]
            known += added
            if added:
                declared["description"] += "\n" + _describe(added)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _pipeline_errors(self, operation: dict) -> dict[str, list[str]]:
        """Statuses and codes answered before or around the view's own code."""
        parameters = {parameter["in"] for parameter in operation.get("parameters", [])}
        has_body = "requestBody" in operation
        found: dict[str, list[str]] = {"406": ["not_acceptable"]}
        if has_body or "query" in parameters:
            found["400"] = ["validation_error", *(["malformed_request"] if has_body else [])]
        if any(requirement for requirement in operation.get("security", [{}])):
            found["401"] = ["not_authenticated", "authentication_failed", "token_not_valid"]
        if any(isinstance(p, IsAdminUser) for p in self.view.get_permissions()):
            found["403"] = ["permission_denied"]
        if "path" in parameters:
            found["404"] = ["not_found"]
        if has_body:
            found["413"] = ["payload_too_large"]
            found["415"] = ["unsupported_media_type"]
        if self.view.get_throttles():
            found["429"] = ["throttled"]
        if not getattr(self.view, "answers_without_services", False):
            found["503"] = ["service_unavailable"]
        return found


def response_headers(result, generator, request, public):
    """drf-spectacular postprocessing hook: X-Request-ID on every response, Retry-After on
    every 429 and 503."""
    for operations in result["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                headers = response.setdefault("headers", {})
                if status in ("429", "503"):
                    headers["Retry-After"] = {
                        "schema": {"type": "integer", "minimum": 0},
                        "required": True,
                        "description": "Seconds to wait before retrying.",
                    }
                headers["X-Request-ID"] = {
                    "schema": {"type": "string", "pattern": f"^{CLIENT_REQUEST_ID.pattern}$"},
                    "required": True,
                    "description": "The client's X-Request-ID when it matched this pattern, "
                    "else one made by the server; logs carry it.",
                }
    return result


# How one operation's answer feeds the next (OpenAPI links, which clients and the stateful
# phase of the Schemathesis run follow): (operationId, status) -> links.
_GET_TRANSFER = {
    "operationId": "api_wallet_transfers_retrieve",
    "parameters": {"transfer_id": "$response.body#/id"},
    "description": "The transfer as it settles.",
}
_TOKEN_LINKS = {
    "RefreshToken": {
        "operationId": "api_users_token_refresh_create",
        "requestBody": {"refresh": "$response.body#/refresh"},
        "description": "A new pair for this refresh token (which dies).",
    },
    "Logout": {
        "operationId": "api_users_logout_create",
        "requestBody": {"refresh": "$response.body#/refresh"},
        "description": "Ends this refresh token (with an access token of the same user).",
    },
}
LINKS = {
    ("api_wallet_transfer_create", "202"): {"GetTransfer": _GET_TRANSFER},
    ("api_wallet_transfer_create", "200"): {"GetTransfer": _GET_TRANSFER},
    ("api_users_login_create", "200"): _TOKEN_LINKS,
    ("api_users_token_refresh_create", "200"): _TOKEN_LINKS,
}


def response_links(result, generator, request, public):
    """drf-spectacular postprocessing hook: the LINKS (drf-spectacular has no way to declare
    them on a view)."""
    for operations in result["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                links = LINKS.get((operation["operationId"], status))
                if links:
                    response["links"] = links
    return result


class StatelessJwtScheme(SimpleJWTScheme):
    """The same bearer access token, verified from its signed claims without reading the user
    row (the transfer hot path). drf-spectacular needs a scheme name of its own for it."""

    target_class = "api.core.authentication.CachedJwtStatelessAuthentication"
    name = "jwtClaimsAuth"
    priority = 1  # over drf-spectacular's own extension for this class


class MoneyFieldExtension(OpenApiSerializerFieldExtension):
    """Amounts are strings: on input, a pattern holding them to 0.01 up to the field's
    maximum; on output, always two decimals."""

    target_class = "api.core.fields.MoneyField"

    def map_serializer_field(self, auto_schema, direction):
        from django.conf import settings

        if direction == "response":
            return {"type": "string", "pattern": OUTPUT_AMOUNT_PATTERN, "example": "125.50"}
        maximum = getattr(settings, self.target.maximum_setting)
        return {
            "type": "string",
            "pattern": amount_pattern(maximum_paise=maximum),
            "example": "125.50",
            "description": "Rupees as a string, at most two decimals, from 0.01 up to "
            f"{maximum // 100}.{maximum % 100:02d} (`{self.target.maximum_setting[:-6]}`); "
            "a JSON number is refused.",
        }


class DateTimeFieldExtension(OpenApiSerializerFieldExtension):
    """Timestamps leave in one form: UTC, six fractional digits, `Z`."""

    target_class = "rest_framework.fields.DateTimeField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "response":
            schema["pattern"] = (
                r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$"
            )
        return schema


# DRF refuses NUL in every string it reads (400).
NO_NUL_PATTERN = r"^[^\x00]*$"


class CharFieldExtension(OpenApiSerializerFieldExtension):
    """Every string input says it holds no NUL; a DocumentedCharField adds its own rules."""

    target_class = "rest_framework.fields.CharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request" and isinstance(self.target, serializers.EmailField):
            # Django's rules, which JSON Schema's `email` format does not match exactly.
            del schema["format"]
            schema["pattern"] = EMAIL_PATTERN
        if direction == "request":
            schema.setdefault("pattern", NO_NUL_PATTERN)
        schema.update(getattr(self.target, "schema", {}))
        return schema


# What str.strip() removes (and so DRF's trim_whitespace), spelled out: ECMA-262's \s, which
# JSON Schema patterns use, differs from Python's whitespace.
_STRIPPED = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def stripped_pattern(core: str) -> str:
    """The strings that are `core` once surrounding whitespace is stripped."""
    return rf"^[{_STRIPPED}]*(?:{core})[{_STRIPPED}]*$"


def not_blank_pattern(*, max_length: int | None = None) -> str:
    """Strings with something besides whitespace (and no NUL), at most `max_length`
    characters once stripped."""
    edge = rf"[^{_STRIPPED}\x00]"  # the first and the last character kept
    if max_length is None:
        return stripped_pattern(rf"{edge}(?:[^\x00]*{edge})?")
    between = rf"(?:[^\x00]{{0,{max_length - 2}}}{edge})?" if max_length >= 2 else ""
    return stripped_pattern(edge + between)


# An email address as Django's EmailValidator (and so DRF's EmailField) accepts it, once
# stripped: a dot-atom or quoted local part (its case-insensitive match also takes U+0131,
# U+017F and U+212A; not U+0130, which registration lower-cases into two characters), and a
# domain of labels with a top-level one, or "localhost". Django also takes IP literals
# ("[192.0.2.1]") and Unicode domains; this pattern leaves them out (send a Unicode domain
# in its xn-- form): Unicode ranges made generating addresses from it about 25 times slower.
_ATEXT = r"[-!#$%&'*+/=?^_`{}|~0-9A-Za-z\u0131\u017f\u212a]"
_QTEXT = r"[\x01-\x08\x0b\x0c\x0e-\x1f!#-\[\]-\x7f\u0131\u017f\u212a]"
_QPAIR = r"\\[\x01-\x09\x0b\x0c\x0e-\x7f\u0131\u017f\u212a]"
_LABEL = r"[a-zA-Z0-9](?:[-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?"
_TOP_LABEL = r"(?:[a-zA-Z][-a-zA-Z]{0,61}[a-zA-Z]|[xX][nN]--[a-zA-Z0-9]{1,59})"
EMAIL_PATTERN = stripped_pattern(
    rf'(?:{_ATEXT}+(?:\.{_ATEXT}+)*|"(?:{_QTEXT}|{_QPAIR})*")'
    rf"@(?:{_LABEL}(?:\.{_LABEL})*\.{_TOP_LABEL}|localhost)"
)
