"""The ASGI application: HTTP to Django, WebSockets through the origin check and ticket
authentication to the realtime routes.

The Procfile serves REST with granian (WSGI) on PORT and runs this application under
uvicorn on WS_PORT for the sockets (`python -m realtime.serve`, which bounds its shutdown); it
serves HTTP too, so one ASGI server could serve everything (more slowly: see the README's
realtime section).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api.config.settings.local")
# Django is set up before anything imports models (the realtime routes do).
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from realtime.auth import TicketAuthMiddleware  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402
from realtime.security import OriginCheck  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": OriginCheck(TicketAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
