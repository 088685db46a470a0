"""Django Channels: WebSocket ticket auth, routing, consumers and the after-commit sender."""
