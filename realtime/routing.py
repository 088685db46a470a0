"""WebSocket routes. Any other path is refused at the handshake."""

from channels.security.websocket import WebsocketDenier
from django.urls import path, re_path

from api.core.socket_url import SOCKET_PATH
from realtime.consumers import NotificationsConsumer

websocket_urlpatterns = [
    path(SOCKET_PATH.lstrip("/"), NotificationsConsumer.as_asgi()),
    re_path(r"", WebsocketDenier.as_asgi()),
]
