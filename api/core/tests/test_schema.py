"""The OpenAPI document, the docs page, and the schema check `make lint` runs."""

import os
import re
import subprocess
import sys

import yaml
from django.conf import settings
from django.contrib.staticfiles import finders

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


def test_schema_is_an_openapi_3_document(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert {"/healthz", "/readyz"} <= set(schema["paths"])
    not_ready = schema["paths"]["/readyz"]["get"]["responses"]["503"]
    assert not_ready["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"
    }
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {
        "code",
        "message",
        "fields",
        "request_id",
    }


def test_every_endpoint_but_healthz_documents_its_503_with_retry_after(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            unavailable = operation["responses"].get("503")
            if path == "/healthz":
                assert unavailable is None
                continue
            assert unavailable, (method, path)
            assert "Retry-After" in unavailable["headers"], (method, path)
    for path in ("/api/wallet/transfer/", "/api/wallet/deposits/"):
        assert "`overloaded`" in schema["paths"][path]["post"]["responses"]["503"]["description"]


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
