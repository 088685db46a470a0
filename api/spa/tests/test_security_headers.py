"""The web app's pages carry a strict Content-Security-Policy whose connect-src names the
socket URL that the same request's ticket would; every response says Referrer-Policy and
nosniff."""

import pytest

from api.transfers.tests.helpers import client_of

INDEX = b'<!doctype html><html><body><div id="root"></div></body></html>'
ROUTES = ["/", "/login", "/send", "/history", "/transfers/abc", "/profile/"]


@pytest.fixture(autouse=True)
def built_app(settings, tmp_path):
    index = tmp_path / "index.html"
    index.write_bytes(INDEX)
    settings.SPA_INDEX_FILE = index
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "pay.example", "testserver"]
    settings.WS_PORT = 9100
    settings.WS_PUBLIC_URL = None


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parsed = {}
    for directive in header.split(";"):
        name, *sources = directive.split()
        assert name not in parsed, f"{name} given twice"
        parsed[name] = sources
    return parsed


@pytest.mark.parametrize("path", ROUTES)
def test_every_page_gets_a_policy_without_inline_or_eval(client, path):
    response = client.get(path)
    policy = directives(response)

    assert policy == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "connect-src": ["'self'", "ws://testserver:9100/ws/notifications/"],
    }
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("host", "secure", "socket"),
    [
        ("127.0.0.1:8000", False, "ws://127.0.0.1:9100/ws/notifications/"),
        ("localhost", False, "ws://localhost:9100/ws/notifications/"),
        ("pay.example:443", True, "wss://pay.example:9100/ws/notifications/"),
    ],
)
def test_connect_src_follows_the_request_host_and_scheme(client, host, secure, socket):
    policy = directives(client.get("/send", HTTP_HOST=host, secure=secure))

    assert policy["connect-src"] == ["'self'", socket]


def test_connect_src_is_the_configured_public_socket_url(client, settings):
    settings.WS_PUBLIC_URL = "wss://pay.example/ws/notifications/"

    policy = directives(client.get("/", HTTP_HOST="localhost:8000"))

    assert policy["connect-src"] == ["'self'", "wss://pay.example/ws/notifications/"]


@pytest.mark.django_db
@pytest.mark.parametrize("public_url", [None, "wss://pay.example/ws/notifications/"])
@pytest.mark.parametrize(("host", "secure"), [("localhost:8000", False), ("pay.example", True)])
def test_connect_src_names_exactly_the_url_of_the_ticket(
    client, make_wallet, settings, public_url, host, secure
):
    settings.WS_PUBLIC_URL = public_url

    ticket = client_of(make_wallet()).post("/api/realtime/ticket/", HTTP_HOST=host, secure=secure)
    page = client.get("/", HTTP_HOST=host, secure=secure)

    assert ticket.status_code == 200, ticket.content
    assert directives(page)["connect-src"] == ["'self'", ticket.json()["url"]]


def test_a_configured_url_cannot_add_sources_or_directives(client, settings):
    settings.WS_PUBLIC_URL = "wss://pay.example/ws/x y,z;script-src *"

    policy = directives(client.get("/"))

    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'", "wss://pay.example/ws/x%20y%2Cz%3Bscript-src%20*"]


@pytest.mark.parametrize("path", [*ROUTES, "/api/config/", "/healthz", "/api/nope/"])
def test_referrer_policy_and_nosniff_on_pages_and_api(client, path):
    response = client.get(path)

    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_swagger_ui_and_the_api_keep_no_policy(client):
    # Swagger UI runs an inline script; the policy is the web app's.
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert "Content-Security-Policy" not in docs
    assert "Content-Security-Policy" not in client.get("/api/config/")
