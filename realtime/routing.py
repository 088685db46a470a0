"""WebSocket routes. Any other path is refused at the handshake."""

from channels.security.websocket import WebsocketDenier
from django.urls import path, re_path

from realtime.consumers import NotificationsConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationsConsumer.as_asgi()),
    re_path(r"", WebsocketDenier.as_asgi()),
]
