"""A WebSocket client over `WebsocketCommunicator` against the real ASGI application (origin
check, ticket middleware, routing, consumer) and real Redis pub/sub."""

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from api.config.asgi import application
from realtime.auth import ticket_issue

# Generous: the machine may be busy; nothing here waits this long unless something is wrong.
TIMEOUT = 20


class Socket:
    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator

    @classmethod
    async def open(
        cls,
        *,
        wallet=None,
        ticket: str | None = None,
        after_seq: object = None,
        origin: str | None = None,
        query: str | None = None,
    ) -> tuple["Socket", bool, Any]:
        """Connects; returns (socket, accepted, subprotocol or close code). With `wallet`, a
        fresh ticket of its user is used."""
        if wallet is not None:
            ticket = await database_sync_to_async(ticket_issue)(user_id=wallet.user_id)
        if query is None:
            parts = [] if ticket is None else [f"ticket={ticket}"]
            if after_seq is not None:
                parts.append(f"after_seq={after_seq}")
            query = "&".join(parts)
        headers = [] if origin is None else [(b"origin", origin.encode())]
        communicator = WebsocketCommunicator(
            application, f"/ws/notifications/?{query}", headers=headers
        )
        accepted, detail = await communicator.connect(timeout=TIMEOUT)
        return cls(communicator), accepted, detail

    async def receive(self) -> dict:
        output = await self.communicator.receive_output(timeout=TIMEOUT)
        assert output["type"] == "websocket.send", output
        return json.loads(output["text"])

    async def receive_many(self, count: int) -> list[dict]:
        return [await self.receive() for _ in range(count)]

    async def closed_with(self) -> int:
        """Waits for the server to close the socket; returns the close code."""
        output = await self.communicator.receive_output(timeout=TIMEOUT)
        assert output["type"] == "websocket.close", output
        return output.get("code", 1000)

    async def send(self, content: Any) -> None:
        await self.communicator.send_to(text_data=json.dumps(content))

    async def ping(self) -> tuple[list[dict], int]:
        """Sends ping; returns every message the server sent before the pong, and the pong's
        seq. The server reads the latest stored seq and sends what is missing first, so after
        this the client holds every stored event up to that seq."""
        await self.send({"type": "ping"})
        before = []
        while (message := await self.receive())["type"] != "pong":
            before.append(message)
        return before, message["seq"]

    async def close(self) -> None:
        await self.communicator.disconnect()


def seqs(messages: list[dict]) -> list[int]:
    return [m["seq"] for m in messages]


def kinds(messages: list[dict]) -> list[str]:
    return [m["type"] for m in messages]
