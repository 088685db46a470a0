"""Reads the run's recorded history (loadtests/history.py lines) into the checker's terms:
every attempt with its answer or the lack of one, every socket connection with its frames,
and when each operation was due (the offered load, drops included)."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from loadtests.chaos.checker import TICKET, TRANSFER, Attempt, SocketConnection

ENDPOINTS = {"/api/wallet/transfer/": TRANSFER, "/api/realtime/ticket/": TICKET}


@dataclass
class Recorded:
    attempts: list[Attempt] = field(default_factory=list)
    sockets: list[SocketConnection] = field(default_factory=list)
    # Due moments of the transfers offered: the first send of each key (a replay of a key
    # already sent offers no new transfer), and each dropped transfer request.
    offered: list[float] = field(default_factory=list)
    dropped: int = 0


def recorded(lines: Iterable[dict]) -> Recorded:
    sends: dict[tuple[int, int], dict] = {}
    outcomes: dict[tuple[int, int], dict] = {}
    connections: list[dict] = []  # in the order they were opened
    current: dict[int, dict] = {}  # socket number -> its latest connection
    result = Recorded()
    keys_sent: set[tuple[str, str]] = set()
    for line in lines:
        kind = line["t"]
        if kind == "send":
            sends[(line["op"], line["attempt"])] = line
            key = (line.get("sender"), line.get("key"))
            if ENDPOINTS.get(line["path"]) == TRANSFER and key not in keys_sent:
                keys_sent.add(key)
                result.offered.append(line["due"])
        elif kind in ("answer", "no_answer"):
            outcomes[(line["op"], line["attempt"])] = line
        elif kind == "dropped":
            result.dropped += 1
            if line.get("name", "").startswith(TRANSFER):
                result.offered.append(line["due"])
        elif kind == "ws_open":  # a socket (re)connects: a new connection
            current[line["socket"]] = {"line": line, "frames": []}
            connections.append(current[line["socket"]])
        elif kind == "ws_frame":
            current[line["socket"]]["frames"].append(line["frame"])
    for op_attempt, send in sends.items():
        outcome = outcomes.get(op_attempt, {})
        answered = outcome.get("t") == "answer"
        result.attempts.append(
            Attempt(
                sender=send.get("sender") or "",
                key=send.get("key") or "",
                sent=send["at"],
                answered=outcome["at"] if answered else None,
                status=outcome["status"] if answered else None,
                code=outcome.get("code"),
                retry_after=outcome.get("retry_after") is not None,
                transfer=outcome.get("transfer_id"),
                endpoint=ENDPOINTS.get(send["path"], send["path"]),
            )
        )
    for connection in connections:
        opened, frames = connection["line"], connection["frames"]
        hello = frames[0].get("seq") if frames and frames[0].get("type") == "hello" else None
        result.sockets.append(
            SocketConnection(
                user=opened["user"],
                after_seq=opened.get("after_seq"),
                hello=hello,
                frames=tuple(frames[1:] if hello is not None else frames),
            )
        )
    result.offered.sort()
    return result
