"""The web app as Django serves it: index.html for client-side routes, JSON everywhere else,
and the anonymous client configuration."""

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from api.users import aadhaar
from api.users.management.commands.seed_demo import DEMO_PASSWORD
from api.users.services import user_register

INDEX = b'<!doctype html><html><body><div id="root"></div></body></html>'


@pytest.fixture
def built_app(settings, tmp_path):
    index = tmp_path / "index.html"
    index.write_bytes(INDEX)
    settings.SPA_INDEX_FILE = index
    return index


@pytest.mark.parametrize("path", ["/", "/login", "/history", "/transfers/abc", "/profile/"])
def test_client_side_routes_get_index_html(client, built_app, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response.content == INDEX
    assert response["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    "path", ["/api/nope/", "/api/wallet/nope/", "/static/missing.js", "/nowhere", "/login/x"]
)
def test_unknown_api_and_static_paths_stay_json_404(client, built_app, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_health_and_docs_are_not_the_web_app(client, built_app):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert b"swagger" in client.get("/api/docs/").content.lower()


def test_writes_to_web_app_routes_are_refused(client, built_app):
    response = client.post("/history", {})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_unbuilt_web_app_answers_in_the_envelope(client, settings, tmp_path):
    settings.SPA_INDEX_FILE = tmp_path / "missing" / "index.html"
    response = client.get("/")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "web_app_not_built"


def _demo_user(email: str, name: str) -> None:
    with transaction.atomic():
        user_register(
            email=email,
            password=DEMO_PASSWORD,
            full_name=name,
            phone=None,
            aadhaar=aadhaar.generate(),
        )


@pytest.mark.django_db
def test_config_lists_demo_logins_only_in_demo_mode(settings):
    _demo_user("demo02@vaultpay.test", "Second Demo")
    _demo_user("demo01@vaultpay.test", "First Demo")
    _demo_user("someone@example.com", "Not A Demo")
    api = APIClient()

    settings.DEMO_MODE = False
    body = api.get("/api/config/").json()
    assert body == {
        "demo_mode": False,
        "demo_password": None,
        "demo_logins": [],
        "max_transfer_amount": "100000.00",
    }

    settings.DEMO_MODE = True
    body = api.get("/api/config/").json()
    assert body["demo_mode"] is True
    assert body["demo_password"] == DEMO_PASSWORD
    assert body["demo_logins"] == [
        {"email": "demo01@vaultpay.test", "full_name": "First Demo"},
        {"email": "demo02@vaultpay.test", "full_name": "Second Demo"},
    ]
