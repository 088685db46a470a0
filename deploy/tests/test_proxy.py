"""The compose stack's reverse proxy, for real: Debian's nginx with the configuration
docker-compose.yml uses, in front of the Procfile's processes (web, ws, a worker and beat) on
a database of their own (`<name>_proxy`, dropped and recreated) and the Redis database of
REDIS_URL (flushed). The app gets the settings docker-compose.yml gives it behind the proxy:
the socket URL tickets name, the pages' port for the socket origin check, one proxy in front.

Through the proxy's one origin: the web app's page and its script, a transfer (202, then
SUCCESS) whose event arrives on a socket opened at the ticket's `url`, and the proxy's own
answer when the web server is down (503 `service_unavailable` in the error envelope, with
Retry-After). Also the compose health checks of the worker and of beat.

Needs the web app built (web/dist; make test builds it first) and nginx (apt-get install
nginx; make test installs it).
"""

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlsplit, urlunsplit

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from deploy.tests.nginx import ROOT, Nginx
from loadtests.data import wallets_of
from loadtests.provision import provision_funded
from loadtests.stack import Stack, free_port

SETTLE_TIMEOUT = 30.0


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Message
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    """nginx on a free port in front of a started stack; yields (nginx, stack)."""
    if not (ROOT / "web" / "dist" / "index.html").is_file():
        pytest.fail("The web app is not built: `npm run build` in web/ (make test does).")
    url = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vaultpay"))
    port = free_port()
    with Stack(
        database_url=urlunsplit(url._replace(path=f"{url.path}_proxy")),
        redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        run_dir=tmp_path_factory.mktemp("proxy-stack"),
        # As docker-compose.yml sets them for the app behind the proxy.
        settings={
            "WS_PUBLIC_URL": f"ws://127.0.0.1:{port}/ws/notifications/",
            "HTTP_PORT": str(port),
            "NUM_PROXIES": "1",
        },
        web_processes=1,
        workers=1,
        worker_concurrency=1,
    ) as stack:
        stack.reset()
        stack.manage("collectstatic", "--noinput", "-v0")
        stack.start()
        nginx = Nginx(port=port, web=f"127.0.0.1:{stack.port}", ws=f"127.0.0.1:{stack.ws_port}")
        try:
            yield nginx.start(), stack
        finally:
            nginx.stop()


def call(nginx: Nginx, method: str, path: str, *, body=None, headers=None) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=10)
    try:
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Content-Type": "application/json", **(headers or {})} if data else headers
        connection.request(method, path, body=data, headers=sent or {})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def test_the_web_app_page_and_its_script_come_through_the_proxy(proxy):
    nginx, _stack = proxy
    page = call(nginx, "GET", "/history")  # a client-side route: the app's index.html

    assert page.status == 200, page.body
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    # The page may open the socket its ticket names: the proxy's own origin.
    policy = page.headers["Content-Security-Policy"]
    assert f"connect-src 'self' ws://127.0.0.1:{nginx.port}/ws/notifications/" in policy
    script = re.search(rb'src="(/static/assets/index-[\w-]+\.js)"', page.body)
    assert script is not None, page.body
    asset = call(nginx, "GET", script.group(1).decode())
    assert asset.status == 200
    assert asset.headers["Content-Type"].startswith("text/javascript")


def test_a_transfer_through_the_proxy_settles_and_its_event_reaches_the_socket(proxy):
    nginx, stack = proxy
    sender, receiver = wallets_of(provision_funded(stack, prefix="px", users=2, balance="10.00"))
    auth = {"Authorization": f"Bearer {sender.access}"}
    origin = f"http://127.0.0.1:{nginx.port}"  # a page of the app, as a browser sends it

    ticket = call(nginx, "POST", "/api/realtime/ticket/", headers=auth)
    assert ticket.status == 200, ticket.body
    socket_url = ticket.json()["url"]
    assert socket_url == f"ws://127.0.0.1:{nginx.port}/ws/notifications/"
    with connect(f"{socket_url}?ticket={ticket.json()['ticket']}", origin=origin, proxy=None) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        accepted = call(
            nginx, "POST", "/api/wallet/transfer/",
            body={"receiver_email": receiver.email, "amount": "1.25", "note": "via the proxy"},
            headers={**auth, "Idempotency-Key": f"proxy-{uuid.uuid4()}"},
        )  # fmt: skip
        assert accepted.status == 202, accepted.body
        transfer_id = accepted.json()["id"]
        assert accepted.headers["Location"] == f"/api/wallet/transfers/{transfer_id}/"

        event = None
        while event is None:
            message = json.loads(ws.recv(timeout=SETTLE_TIMEOUT))
            if message["type"] == "transfer.updated" and message["transfer"]["id"] == transfer_id:
                event = message
    assert event["transfer"]["status"] == "SUCCESS"
    assert event["transfer"]["amount"] == "1.25"

    settled = call(nginx, "GET", accepted.headers["Location"], headers=auth)
    assert settled.status == 200 and settled.json()["status"] == "SUCCESS"
    balance = call(nginx, "GET", "/api/wallet/balance/", headers=auth)
    assert balance.json()["balance"] == "8.75"

    # The origin check works through the proxy: another site's page is refused.
    again = call(nginx, "POST", "/api/realtime/ticket/", headers=auth).json()
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{socket_url}?ticket={again['ticket']}", origin="http://evil.example", proxy=None)
    assert refused.value.response.status_code == 403


def ping(stack: Stack, node: str) -> subprocess.Popen:
    """docker-compose.yml's health probe of a Celery node, started."""
    celery = [sys.executable, "-m", "celery", "-A", "api.config.celery"]
    return subprocess.Popen(  # noqa: S603 - our interpreter, Celery's own command
        [*celery, "inspect", "ping", "--timeout", "10", "-d", node],
        cwd=ROOT,
        env=stack.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_the_compose_health_checks_of_the_worker_and_beat_answer(proxy):
    _nginx, stack = proxy
    host = socket.gethostname()
    # The stack names its worker worker1; under docker-compose.yml it is celery@<host>.
    nodes = [f"worker1@{host}", f"celerybeat@{host}"]
    probes = [ping(stack, node) for node in nodes]
    for node, probe in zip(nodes, probes, strict=True):
        output, _ = probe.communicate(timeout=60)
        assert probe.returncode == 0, output
        assert f"{node}: OK" in output


def test_the_proxy_answers_503_in_the_envelope_when_the_web_server_is_down(proxy):
    """Last in this module: it stops the web server."""
    nginx, stack = proxy
    stack.component("web").stop()

    answer = call(nginx, "GET", "/api/wallet/balance/", headers={"X-Request-ID": "proxy-down-1"})

    assert answer.status == 503
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["Retry-After"] == "5"
    assert answer.headers["X-Request-ID"] == "proxy-down-1"
    assert answer.json() == {
        "error": {
            "code": "service_unavailable",
            "message": "A service VaultPay depends on is unavailable.",
            "fields": {},
            "request_id": "proxy-down-1",
        }
    }
    assert "connect() failed" in nginx.error_log()  # nginx's own answer, not the app's
