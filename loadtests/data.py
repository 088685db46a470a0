"""Test data of the locust scenarios: the provisioned wallet users and their roles, amounts,
idempotency keys, and the bad-input corpus with the answer each bad request must get.

The users file is written by `loadtests.provision` (see README): every user's email and an
access token, the shared password, and which users play the fixed roles.
"""

import itertools
import json
import os
import random
import secrets
from dataclasses import dataclass
from pathlib import Path

TRANSFER_PATH = "/api/wallet/transfer/"
USERS_FILE_VARIABLE = "LOADTEST_USERS"


@dataclass(frozen=True)
class Wallet:
    email: str
    token: str

    def headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers


@dataclass(frozen=True)
class Population:
    """Provisioned users. Roles: `hot` is the merchant of the hot-receiver scenario and the
    payer of the hot-sender one; `a` and `b` are the opposite pair; `sockets` are the users the
    WebSocket probe logs in as; `crowd` is everybody else."""

    password: str
    hot: Wallet
    a: Wallet
    b: Wallet
    sockets: list[Wallet]
    crowd: list[Wallet]
    run_id: str

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Population":
        path = path or os.environ.get(USERS_FILE_VARIABLE)
        if not path:
            raise RuntimeError(
                f"Set {USERS_FILE_VARIABLE} to a users file written by `python -m "
                "loadtests.provision` (make loadtest does this)."
            )
        document = json.loads(Path(path).read_text())
        wallets = {u["email"]: Wallet(u["email"], u["access"]) for u in document["users"]}
        roles = document["roles"]
        return cls(
            password=document["password"],
            hot=wallets[roles["hot"]],
            a=wallets[roles["a"]],
            b=wallets[roles["b"]],
            sockets=[wallets[e] for e in roles["sockets"]],
            crowd=[wallets[e] for e in roles["crowd"]],
            run_id=document["run_id"],
        )


class Keys:
    """Idempotency keys unique across runs against the same database: `<tag>-<run>-<n>`
    (the run id is random per locust process). `<tag>-` alone selects a scenario's transfers."""

    def __init__(self, tag: str) -> None:
        self.prefix = f"{tag}-{secrets.token_hex(4)}-"
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self._counter):09d}"


def small_amount(rng: random.Random) -> str:
    """1.00 to 9.99: far below any provisioned balance."""
    return f"{rng.randint(1, 9)}.{rng.randint(0, 99):02d}"


def transfer_body(receiver: Wallet | str, amount: str, note: str | None = None) -> bytes:
    email = receiver.email if isinstance(receiver, Wallet) else receiver
    payload = {"receiver_email": email, "amount": amount}
    if note is not None:
        payload["note"] = note
    return json.dumps(payload).encode()


@dataclass(frozen=True)
class BadRequest:
    """One request of the bad-input corpus and the answer it must get."""

    name: str
    body: bytes
    status: int
    code: str
    key: str | None = "fresh"  # "fresh": a new valid key; None: no header; else this value
    authenticated: bool = True


def bad_corpus(sender: Wallet, receiver: Wallet) -> list[BadRequest]:
    """Requests CONTRACT sections 2 and 4 refuse, each with its status and error code.
    (`idempotency_key_reused` needs an earlier request; the scenario builds it.)"""
    good = transfer_body(receiver, "1.00")
    fields = 400, "validation_error"
    return [
        BadRequest("no auth", good, 401, "not_authenticated", authenticated=False),
        BadRequest("bad JSON", b'{"amount": ', 400, "malformed_request"),
        BadRequest("no key", good, 400, "idempotency_key_required", key=None),
        BadRequest("short key", good, 400, "idempotency_key_invalid", key="short"),
        BadRequest("key with space", good, 400, "idempotency_key_invalid", key="has space 1"),
        BadRequest("amount as number", b'{"receiver_email": "%s", "amount": 1}'
                   % receiver.email.encode(), *fields),
        BadRequest("negative amount", transfer_body(receiver, "-1.00"), *fields),
        BadRequest("zero amount", transfer_body(receiver, "0.00"), *fields),
        BadRequest("three decimals", transfer_body(receiver, "1.001"), *fields),
        BadRequest("exponent", transfer_body(receiver, "1e3"), *fields),
        BadRequest("over the maximum", transfer_body(receiver, "100000.01"), *fields),
        BadRequest("note too long", transfer_body(receiver, "1.00", "x" * 141), *fields),
        BadRequest(
            "unknown receiver",
            transfer_body("nobody-here@loadtest.vaultpay.test", "1.00"),
            400,
            "receiver_not_found",
        ),
        BadRequest("self transfer", transfer_body(sender, "1.00"), 400, "self_transfer"),
        BadRequest(
            "body over 64 KiB",
            transfer_body(receiver, "1.00", "x" * 70_000),
            413,
            "payload_too_large",
        ),
    ]  # fmt: skip
