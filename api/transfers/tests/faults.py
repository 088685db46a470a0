"""What the fault tests share: a client of a running stack that records every answer with
how long it took, and the wait for accepted transfers to settle."""

import time
import uuid
from dataclasses import dataclass, field
from email.message import Message

from rest_framework_simplejwt.tokens import AccessToken

from api.transfers.models import Transfer
from realtime.tests.processes import AsgiServer


@dataclass
class Answer:
    request: str
    status: int
    seconds: float
    headers: Message  # header names match whatever their case, as in HTTP
    body: dict


@dataclass
class RecordingClient:
    """Calls a running server and keeps every answer; `accepted` holds the id of every
    transfer answered 202."""

    server: AsgiServer
    answers: list[Answer] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)

    def call(self, method: str, path: str, *, user=None, body=None, key: str | None = None):
        token = str(AccessToken.for_user(user)) if user is not None else None
        headers = {"Idempotency-Key": key} if key else {}
        started = time.monotonic()
        status, answer_headers, answer = self.server.request(method, path, body, token, headers)
        recorded = Answer(
            f"{method} {path}", status, time.monotonic() - started, answer_headers, answer
        )
        self.answers.append(recorded)
        if status == 202:
            self.accepted.append(answer["id"])
        return recorded

    def pay(self, *, sender, receiver, amount: str = "1.00", key: str | None = None, **extra):
        body = {"receiver_email": receiver.user.email, "amount": amount, **extra}
        return self.call(
            "POST", "/api/wallet/transfer/", user=sender.user, body=body, key=key or _key()
        )

    def deposit(self, *, staff, receiver, amount: str = "5.00", key: str | None = None):
        body = {"email": receiver.user.email, "amount": amount}
        return self.call(
            "POST", "/api/wallet/deposits/", user=staff.user, body=body, key=key or _key()
        )


def _key() -> str:
    return uuid.uuid4().hex


def assert_settled(transfer_ids: list[str], *, within: float) -> None:
    """Every transfer ends SUCCESS or FAILED within `within` seconds."""
    deadline = time.monotonic() + within
    pending = Transfer.objects.filter(uuid__in=transfer_ids, status=Transfer.Status.PENDING)
    while pending.exists():
        assert time.monotonic() < deadline, f"{pending.count()} still PENDING after {within} s"
        time.sleep(0.5)
    assert Transfer.objects.filter(uuid__in=transfer_ids).count() == len(set(transfer_ids))
