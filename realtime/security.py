"""Origin check for WebSocket handshakes.

Browsers send `Origin` with every WebSocket handshake and let any page open a socket to any
site, so the server decides: a request with an `Origin` must come from an allowed origin,
else the handshake is refused (HTTP 403). A request without `Origin` comes from a
command-line client or a load test, not from a page in a browser, and is allowed.

Allowed origins: the site itself, i.e. http(s)://<a host of ALLOWED_HOSTS> on PORT (where
the web app is served) or on the scheme's default port (behind a TLS proxy), and every origin
in CORS_ALLOWED_ORIGINS.
"""

from urllib.parse import ParseResult

from channels.security.websocket import OriginValidator
from django.conf import settings
from django.http.request import validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_allowed(origin: ParseResult) -> bool:
    try:
        port = origin.port
    except ValueError:
        return False
    scheme, hostname = origin.scheme, origin.hostname
    if scheme not in DEFAULT_PORTS or not hostname or origin.path or origin.query:
        return False
    if f"{scheme}://{origin.netloc}" in settings.CORS_ALLOWED_ORIGINS:
        return True
    host = f"[{hostname}]" if ":" in hostname else hostname
    same_site = validate_host(host, [h for h in settings.ALLOWED_HOSTS if h != "*"])
    return same_site and (port is None or port in (settings.HTTP_PORT, DEFAULT_PORTS[scheme]))


class OriginCheck(OriginValidator):
    """Channels' OriginValidator, except that a handshake without `Origin` passes."""

    def __init__(self, application) -> None:
        super().__init__(application, allowed_origins=[])

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        return parsed_origin is None or origin_allowed(parsed_origin)
