"""Where clients open the notifications socket. The ticket endpoint names this URL and the web
app's Content-Security-Policy allows it, for the same request; both read it from here (the
socket server itself is in realtime/, which serves SOCKET_PATH)."""

from django.conf import settings
from django.http.request import split_domain_port

SOCKET_PATH = "/ws/notifications/"


def socket_url(*, host: str, secure: bool) -> str:
    """The absolute URL to open the notifications socket: WS_PUBLIC_URL when configured,
    else the host the client used for the request (already checked against ALLOWED_HOSTS) on
    WS_PORT, where the ASGI server listens."""
    if settings.WS_PUBLIC_URL:
        return settings.WS_PUBLIC_URL
    domain, _port = split_domain_port(host)
    scheme = "wss" if secure else "ws"
    return f"{scheme}://{domain}:{settings.WS_PORT}{SOCKET_PATH}"
