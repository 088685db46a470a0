"""The OpenAPI document, the docs page, and the schema check `make lint` runs."""

import os
import re
import subprocess
import sys

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command

from api.core.money import OUTPUT_AMOUNT_PATTERN
from api.core.schema import errors

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


def test_schema_is_an_openapi_3_document(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert {"/healthz", "/readyz"} <= set(schema["paths"])
    not_ready = schema["paths"]["/readyz"]["get"]["responses"]["503"]
    assert not_ready["content"]["application/json"]["schema"] == {
        "allOf": [
            {"$ref": "#/components/schemas/ErrorEnvelope"},
            {"properties": {"error": {"properties": {"code": {"enum": ["not_ready"]}}}}},
        ]
    }
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {
        "code",
        "message",
        "fields",
        "request_id",
    }


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def _codes(response) -> list[str]:
    schema = response["content"]["application/json"]["schema"]
    assert schema["allOf"][0] == {"$ref": "#/components/schemas/ErrorEnvelope"}
    return schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]


def test_every_operation_documents_what_the_request_pipeline_can_answer(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)

    for name, operation in _operations(schema):
        responses = operation["responses"]
        assert _codes(responses["406"]) == ["not_acceptable"], name
        if "requestBody" in operation:
            assert {"malformed_request", "validation_error"} <= set(_codes(responses["400"]))
            assert _codes(responses["413"]) == ["payload_too_large"], name
            assert _codes(responses["415"]) == ["unsupported_media_type"], name
        if any(operation.get("security", [{}])):
            assert {"not_authenticated", "token_not_valid"} <= set(_codes(responses["401"]))
        for status, response in responses.items():
            assert response["headers"]["X-Request-ID"]["required"] is True, (name, status)
            if status in ("429", "503"):
                assert response["headers"]["Retry-After"]["required"] is True, (name, status)
            if status >= "400":
                assert _codes(response), (name, status)


def test_every_endpoint_but_healthz_and_readyz_documents_an_outage(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)

    for name, operation in _operations(schema):
        unavailable = operation["responses"].get("503")
        if name == "GET /healthz":
            assert unavailable is None
        elif name == "GET /readyz":
            assert _codes(unavailable) == ["not_ready"]
        else:
            assert "service_unavailable" in _codes(unavailable), name
    for path in ("/api/wallet/transfer/", "/api/wallet/deposits/"):
        assert _codes(schema["paths"][path]["post"]["responses"]["503"]) == [
            "overloaded",
            "service_unavailable",
        ]


def test_throttled_operations_document_429_and_the_others_do_not(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)

    throttled = {name for name, op in _operations(schema) if "429" in op["responses"]}
    assert {"GET /healthz", "GET /readyz"}.isdisjoint(throttled)
    assert {"POST /api/users/login/", "POST /api/wallet/transfer/", "GET /api/wallet/balance/"} <= (
        throttled
    )


def test_declared_and_added_codes_merge_and_the_schema_is_the_same_every_time(client):
    first = client.get("/api/schema/?format=json").json()
    second = client.get("/api/schema/?format=json").json()

    assert first == second  # shared declared responses are not changed in place
    transfer = first["paths"]["/api/wallet/transfer/"]["post"]["responses"]
    assert _codes(transfer["400"]) == [
        "idempotency_key_required",
        "idempotency_key_invalid",
        "validation_error",
        "receiver_not_found",
        "self_transfer",
        "malformed_request",
    ]
    deposit = first["paths"]["/api/wallet/deposits/"]["post"]["responses"]
    assert "self_transfer" not in _codes(deposit["400"])
    assert _codes(deposit["403"]) == ["permission_denied"]
    assert "`malformed_request`" in transfer["400"]["description"]


def test_an_error_code_must_be_explained_before_a_view_may_declare_it():
    with pytest.raises(ValueError, match="no_such_code"):
        errors("validation_error", "no_such_code")


def test_the_accept_endpoints_document_their_headers_and_links(client):
    operation = client.get("/api/schema/?format=json").json()["paths"]["/api/wallet/transfer/"]
    post = operation["post"]

    (key,) = [p for p in post["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["required"] is True and key["in"] == "header"
    assert set(post["responses"]["202"]["headers"]) == {"Location", "X-Request-ID"}
    assert set(post["responses"]["200"]["headers"]) == {
        "Location",
        "Idempotent-Replayed",
        "X-Request-ID",
    }
    assert post["responses"]["202"]["links"]["GetTransfer"] == {
        "operationId": "api_wallet_transfers_retrieve",
        "parameters": {"transfer_id": "$response.body#/id"},
        "description": "The transfer as it settles.",
    }


def test_amount_inputs_state_their_bounds_from_the_settings(client, settings):
    settings.MAX_TRANSFER_AMOUNT_PAISE = 150
    components = client.get("/api/schema/?format=json").json()["components"]["schemas"]

    pattern = components["TransferCreateRequest"]["properties"]["amount"]["pattern"]
    assert re.fullmatch(pattern, "1.50") and not re.fullmatch(pattern, "1.51")
    assert not re.fullmatch(pattern, "0.00")
    deposit = components["DepositCreateRequest"]["properties"]["amount"]["pattern"]
    assert re.fullmatch(deposit, "1.51")
    balance = components["Balance"]["properties"]["balance"]
    assert balance["pattern"] == OUTPUT_AMOUNT_PATTERN


def test_string_inputs_say_they_hold_no_nul(client):
    components = client.get("/api/schema/?format=json").json()["components"]["schemas"]

    for name, component in components.items():
        if not name.endswith("Request"):
            continue
        for field, property_ in component.get("properties", {}).items():
            if property_.get("type") == "string":
                assert "pattern" in property_ or property_.get("format") == "email", (name, field)
                assert not re.search(property_.get("pattern", ""), "\x00abc"), (name, field)


def test_schema_is_also_served_as_json(client):
    response = client.get("/api/schema/?format=json")

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_docs_page_loads_its_assets_from_our_static_files(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assets = [url for url in ASSET.findall(html) if url.startswith(settings.STATIC_URL)]
    assert any(url.endswith("swagger-ui-bundle.js") for url in assets), assets
    for url in assets:
        assert finders.find(url.removeprefix(settings.STATIC_URL)), url
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html), "assets from another host"


def test_schema_generation_validates_without_warnings():
    """`manage.py spectacular --validate --fail-on-warn` in a process of its own, as in CI."""
    command = ["manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", os.devnull]
    result = subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, *command],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "api.config.settings.test"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_the_api_reference_in_docs_is_generated_from_the_current_schema():
    """docs/api.md's operations table and error codes: `manage.py api_reference` rewrites them."""
    call_command("api_reference", "--check")
