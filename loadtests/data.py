"""Test data of the load runs: the provisioned wallet users and their roles, their tokens
(refreshed before they expire), idempotency keys, amounts, and the bad-input corpus with the
answer each bad request must get.

The users file is written by `loadtests.provision` (see README): every user's email, an
access token and a refresh token, the shared password, and which users play which role.
"""

import asyncio
import itertools
import json
import random
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from loadtests.driver import Answer, Driver, Request

TRANSFER_PATH = "/api/wallet/transfer/"
REFRESH_PATH = "/api/users/token/refresh/"


@dataclass(eq=False)
class Wallet:
    """A provisioned user. `access` and `refresh` change when the tokens are refreshed;
    requests read `access` when they are sent."""

    email: str
    access: str
    refresh: str | None = None


@dataclass(frozen=True)
class Population:
    """Provisioned users. Roles: `hot` is the merchant of the hot-receiver scenario and the
    payer of the hot-sender one; `a` and `b` are the opposite pair; `sockets` are the socket
    users; `crowd` is everybody else."""

    password: str
    hot: Wallet
    a: Wallet
    b: Wallet
    sockets: list[Wallet]
    crowd: list[Wallet]
    balance: str  # each wallet's deposit
    issued_at: float
    access_lifetime: float

    @classmethod
    def load(cls, path: Path) -> "Population":
        document = json.loads(path.read_text())
        wallets = {
            u["email"]: Wallet(u["email"], u["access"], u.get("refresh")) for u in document["users"]
        }
        roles = document["roles"]
        return cls(
            password=document["password"],
            hot=wallets[roles["hot"]],
            a=wallets[roles["a"]],
            b=wallets[roles["b"]],
            sockets=[wallets[e] for e in roles["sockets"]],
            crowd=[wallets[e] for e in roles["crowd"]],
            balance=document["balance"],
            issued_at=document["issued_at"],
            access_lifetime=document["access_lifetime_seconds"],
        )

    def wallets(self) -> list[Wallet]:
        return [self.hot, self.a, self.b, *self.sockets, *self.crowd]


def wallets_of(document: dict) -> list[Wallet]:
    """The wallets of a `manage.py loadtest_provision` document."""
    return [Wallet(u["email"], u["access"], u.get("refresh")) for u in document["users"]]


class TokenKeeper:
    """Refreshes every wallet's access token before it expires (POST /api/users/token/refresh/,
    which also rotates the refresh token), spread over the last third of the token's life so
    the refreshes do not all land at once. Run `keep()` as a task for the whole run."""

    def __init__(
        self,
        driver: Driver,
        wallets: list[Wallet],
        *,
        issued_at: float,
        lifetime: float,
        on_refresh=None,  # called with each wallet whose tokens were refreshed
    ) -> None:
        self.driver, self.lifetime, self.on_refresh = driver, lifetime, on_refresh
        rng = random.Random()  # noqa: S311 - spreading load, not secrets
        self.due = {w: issued_at + lifetime * rng.uniform(0.55, 0.75) for w in wallets if w.refresh}
        self.refreshed = 0
        self.failures = 0

    async def keep(self) -> None:
        while True:
            now = time.time()
            due = [w for w, at in self.due.items() if at <= now]
            if due:
                await asyncio.gather(*(self.refresh(w) for w in due))
            await asyncio.sleep(1.0)

    async def refresh(self, wallet: Wallet) -> None:
        asked = time.time()
        request = Request(
            "token refresh", "POST", REFRESH_PATH, body={"refresh": wallet.refresh},
            secret_body=True,
        )  # fmt: skip
        try:
            answer: Answer = await self.driver.fetch(request)
        except RuntimeError:
            answer = None
        if answer is None or answer.status != 200:
            self.failures += 1
            self.due[wallet] = time.time() + 5  # try again soon; the token still lives
            return
        wallet.access, wallet.refresh = answer.document["access"], answer.document["refresh"]
        self.due[wallet] = asked + self.lifetime * 0.65
        self.refreshed += 1
        if self.on_refresh is not None:
            self.on_refresh(wallet)


class Keys:
    """Idempotency keys unique across runs against the same database: `<tag>-<run>-<n>`
    (the run id is random per process). `<tag>-` alone selects a scenario's transfers."""

    def __init__(self, tag: str) -> None:
        self.prefix = f"{tag}-{secrets.token_hex(4)}-"
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self._counter):09d}"


def small_amount(rng: random.Random) -> str:
    """1.00 to 9.99: far below any provisioned balance."""
    return f"{rng.randint(1, 9)}.{rng.randint(0, 99):02d}"


def transfer_body(receiver: Wallet | str, amount: str, note: str | None = None) -> dict:
    email = receiver.email if isinstance(receiver, Wallet) else receiver
    body = {"receiver_email": email, "amount": amount}
    if note is not None:
        body["note"] = note
    return body


@dataclass(frozen=True)
class BadRequest:
    """One request of the bad-input corpus and the answer it must get."""

    name: str
    body: bytes
    status: int
    code: str
    key: str | None = "fresh"  # "fresh": a new valid key; None: no header; else this value
    authenticated: bool = True


def _raw(body: dict) -> bytes:
    return json.dumps(body).encode()


def bad_corpus(sender: Wallet, receiver: Wallet) -> list[BadRequest]:
    """Requests the API refuses (README "Transfers"), each with its status and error code.
    (`idempotency_key_reused` needs an earlier request; the scenario builds it.)"""
    good = _raw(transfer_body(receiver, "1.00"))
    fields = 400, "validation_error"

    def amount(value: str) -> bytes:
        return _raw(transfer_body(receiver, value))

    return [
        BadRequest("no auth", good, 401, "not_authenticated", authenticated=False),
        BadRequest("bad JSON", b'{"amount": ', 400, "malformed_request"),
        BadRequest("no key", good, 400, "idempotency_key_required", key=None),
        BadRequest("short key", good, 400, "idempotency_key_invalid", key="short"),
        BadRequest("key with space", good, 400, "idempotency_key_invalid", key="has space 1"),
        BadRequest("amount as number", b'{"receiver_email": "%s", "amount": 1}'
                   % receiver.email.encode(), *fields),
        BadRequest("negative amount", amount("-1.00"), *fields),
        BadRequest("zero amount", amount("0.00"), *fields),
        BadRequest("three decimals", amount("1.001"), *fields),
        BadRequest("exponent", amount("1e3"), *fields),
        BadRequest("over the maximum", amount("100000.01"), *fields),
        BadRequest("note too long", _raw(transfer_body(receiver, "1.00", "x" * 141)), *fields),
        BadRequest(
            "unknown receiver",
            _raw(transfer_body("nobody-here@loadtest.vaultpay.test", "1.00")),
            400,
            "receiver_not_found",
        ),
        BadRequest("self transfer", _raw(transfer_body(sender, "1.00")), 400, "self_transfer"),
        BadRequest(
            "body over 64 KiB",
            _raw(transfer_body(receiver, "1.00", "x" * 70_000)),
            413,
            "payload_too_large",
        ),
    ]  # fmt: skip
