"""The Content-Security-Policy of the web app's pages (README, "Security headers").

The built app is files of its own origin only: one module script and one stylesheet under
/static/assets/, an SVG icon, no inline script or style element, no web fonts, no eval (zod
runs jitless). React and Recharts set styles through the DOM's style properties, which CSP
does not restrict, so styles need no 'unsafe-inline' either. The one source that is not the
page's own origin is the notifications socket, which may be another port of the same host:
it comes from the function that writes the ticket's `url`, for the same request.
"""

import re
from urllib.parse import quote

from django.http import HttpRequest

from api.core.socket_url import socket_url

_FIXED_DIRECTIVES = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

# Whitespace, ';' and ',' end a source, a directive or a policy: a configured URL holding one
# (WS_PUBLIC_URL) must not add sources or directives of its own. CSP compares paths
# percent-decoded, so the encoded URL still matches the socket's.
_SOURCE_BREAKING = re.compile(r"[\s;,]")


def _as_source(url: str) -> str:
    return _SOURCE_BREAKING.sub(lambda m: quote(m.group()), url)


def spa_content_security_policy(request: HttpRequest) -> str:
    """The policy for one page of the web app: fixed directives, plus `connect-src` allowing
    the page's own origin (REST) and the socket URL this request's ticket would name."""
    socket = socket_url(host=request.get_host(), secure=request.is_secure())
    directives = {**_FIXED_DIRECTIVES, "connect-src": ["'self'", _as_source(socket)]}
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())
