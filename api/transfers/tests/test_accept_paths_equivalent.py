"""POST /api/wallet/transfer/ answers a well-formed request on a hot path (one prepared SQL
statement) and falls back to the full DRF path for everything that path cannot decide. This
differential test sends the same requests, good and malformed, down both: each step of a
generated scenario is sent once by a sender with the hot path on and once by an identical
sender with it off (`TRANSFER_ACCEPT_FAST_PATH`). Both must get the same status, headers and
body (ids, timestamps and the sender's identity aside) and leave the same Transfer rows, also
across replays, reused keys, settlement, a payee's deactivation and overload."""

import enum
import json
import re
import time
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, override_settings
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.response import Response as DrfResponse
from rest_framework_simplejwt.tokens import AccessToken

from api.accounts.models import Account
from api.accounts.tests.factories import user_create, wallet_create
from api.transfers.backlog import backlog_overloaded
from api.transfers.models import Transfer
from api.transfers.partitions import partition_of
from api.transfers.settlement import transfers_settle
from api.transfers.tests.helpers import deposit

# One transaction for the whole run: single requests answer the same with or without commits
# (concurrent ones are test_concurrency.py's), and a commit per insert would triple the time.
pytestmark = pytest.mark.django_db

URL = "/api/wallet/transfer/"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# ---- what a scenario is made of ----------------------------------------------------------


class Receiver(enum.Enum):
    """Whom a body names; each sender's request spells it out with its own users."""

    PAYEE = "payee"  # an active user
    PAYEE_UPPER = "payee, upper-cased"
    PAYEE_PADDED = "payee, with spaces around"
    INACTIVE = "an inactive user"
    SELF = "the sender"
    SELF_UPPER = "the sender, upper-cased"
    UNKNOWN = "nobody"


ABSENT = object()  # a field left out of the body


@dataclass(frozen=True)
class Body:
    """A JSON value (Receivers in it are replaced by emails) in `encoding`, or bytes as is."""

    value: object
    encoding: str = "utf-8"
    ensure_ascii: bool = False


@dataclass(frozen=True)
class Post:
    body: int | Body  # an index into the scenario's bodies, so that requests repeat them
    key: tuple  # ("pool", i), ("quoted", i) or ("raw", header value or None)
    content_type: str
    accept: str | None
    auth: str
    query: str


@dataclass(frozen=True)
class Settle:
    """Settles the sender's PENDING transfers, as a worker would."""


@dataclass(frozen=True)
class PayeeActive:
    active: bool


@dataclass(frozen=True)
class Overloaded:
    """Settlement is (or is no longer) behind: new transfers answer 503 `overloaded`."""

    on: bool


@dataclass(frozen=True)
class Scenario:
    sender_active: bool
    sender_funded: bool
    keys: tuple[str, str]
    bodies: tuple[Body, Body]
    steps: tuple[Post | Settle | PayeeActive | Overloaded, ...]


# ---- strategies --------------------------------------------------------------------------
# Each part of a request (and of its body) is drawn from its usual values, or now and then
# from its unusual ones: a request with every part wrong tells nothing about the hot path,
# which answers only good ones, and differences hide where one part is just off.


def mostly(usual, unusual, *, unusual_percent: int):
    """`unusual` in about `unusual_percent` of the draws, else `usual`. (st.one_of takes no
    weights, and listing a branch several times did not make it proportionally likelier.)"""
    return st.integers(1, 100).flatmap(lambda n: unusual if n <= unusual_percent else usual)


good_amounts = st.builds(
    "{}{}".format,
    mostly(
        st.integers(1, 100_000).map(str),
        st.sampled_from(["0", "100000", "100001", "999999999999"]),  # at and past the bounds
        unusual_percent=15,
    ),
    st.sampled_from(["", ".0", ".5", ".05", ".50", ".00", ".99", ".01"]),
)
non_string_values = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
    st.booleans(),
    st.just([]),
    st.just({"value": "1.00"}),
)
bad_amounts = st.one_of(
    # 3 decimals, signs, exponents, huge, leading zeros and other near misses
    st.from_regex(r"[-+]?[0-9]{1,14}(\.[0-9]{0,3})?([eE][-+]?[0-9]{1,3})?", fullmatch=True),
    st.sampled_from(
        [
            "",
            " 1.00",
            "1.00 ",
            ".50",
            "5.",
            "01.00",
            "1,000.00",
            "1_000",
            "0x10",
            "NaN",
            "Infinity",
            "9" * 40,
            "\u0661\u0662",
            "\uff11.00",
            "1.00\x00",
        ]
    ),
    non_string_values,
)
# At most 140 code points; an emoji is one.
good_notes = st.one_of(
    st.just(ABSENT),
    st.just(""),
    st.text(max_size=20),
    st.sampled_from(["x" * 140, "\U0001f600" * 140]),
)
bad_notes = mostly(
    st.sampled_from(["x" * 141, "\U0001f600" * 141, "\u00e9" * 200]),
    st.one_of(st.sampled_from(["a\x00b", "\ud800", "x" * 70_000]), non_string_values),
    unusual_percent=50,
)
# Well-formed receivers: mostly the payee, else the users the hot path must leave alone.
good_receivers = st.sampled_from(
    [Receiver.PAYEE] * 9
    + [Receiver.PAYEE_UPPER] * 3
    + [Receiver.PAYEE_PADDED, Receiver.INACTIVE, Receiver.SELF, Receiver.SELF_UPPER]
    + [Receiver.UNKNOWN]
)
bad_receivers = st.one_of(
    non_string_values,
    st.just([Receiver.PAYEE]),
    st.sampled_from(["", "   ", "not-an-email", "a" * 250 + "@x.in"]),
)
other_shapes = st.one_of(
    st.sampled_from([[], "transfer", 5, None]).map(Body),
    st.sampled_from(
        [
            b"",
            b"{",
            b'{"amount": "1.00",}',
            b"not json",
            b"[" * 3000 + b"]" * 3000,
            b'{"receiver_email": "x@example.in", "amount": NaN}',
            b"\xff\xfe{}",
        ]
    ).map(Body),
)


@st.composite
def bodies(draw, *, unusual_percent: int) -> Body:
    """A transfer body, each of its parts unusual in about `unusual_percent` of the draws."""

    def part(usual, unusual):
        return draw(mostly(usual, unusual, unusual_percent=unusual_percent))

    fields = {
        "receiver_email": part(good_receivers, bad_receivers),
        "amount": part(good_amounts, bad_amounts),
    }
    note = part(good_notes, bad_notes)
    if note is not ABSENT:
        fields["note"] = note
    fields.pop(part(st.none(), st.sampled_from(["receiver_email", "amount"])), None)
    fields |= part(
        st.just({}), st.sampled_from([{"currency": "INR"}, {"amount_paise": 100}, {"Amount": "1"}])
    )
    encoding = part(st.just("utf-8"), st.sampled_from(["utf-8-sig", "utf-16", "latin-1"]))
    body = Body(fields, encoding=encoding, ensure_ascii=draw(st.booleans()))
    return part(st.just(body), st.one_of(other_shapes, st.just(Body([fields]))))


valid_keys = st.one_of(
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=8, max_size=40),
    st.just("k" * 255),
)
unusual_keys = st.one_of(
    st.tuples(st.just("quoted"), st.integers(0, 1)),
    st.tuples(
        st.just("raw"),
        st.one_of(
            st.none(),
            st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=7),
            st.sampled_from(
                ["k" * 256, "key with space", "k\u00e9y-00001", "key\t00001", '"key-0001']
            ),
        ),
    ),
)
unusual_content_types = st.sampled_from(
    [
        "application/json; charset=utf-16",
        "Application/JSON",
        "application/json ; charset=UTF-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/merge-patch+json",
        "",
        "application/json; boundary=" + "x" * 300,
    ]
)
unusual_accepts = st.sampled_from(
    [
        "text/html",
        "application/xml",
        "application/*",
        "Application/JSON",
        "text/html, application/json;q=0.9",
        "application/json; indent=4",
        "application/json; charset=utf-8",
        "text/html;q=0.9, */*;q=0.1",
    ]
)


@st.composite
def posts(draw) -> Post:
    """A request, each of its parts unusual in about one draw of twelve."""

    def part(usual, unusual):
        return draw(mostly(usual, unusual, unusual_percent=8))

    return Post(
        body=part(st.integers(0, 1), bodies(unusual_percent=30)),
        key=part(st.tuples(st.just("pool"), st.integers(0, 1)), unusual_keys),
        content_type=part(
            st.sampled_from(["application/json", "application/json; charset=utf-8"]),
            unusual_content_types,
        ),
        accept=part(st.sampled_from([None, "application/json", "*/*"]), unusual_accepts),
        auth=part(
            st.just("valid"), st.sampled_from(["none", "garbage", "expired", "no-wallet", "basic"])
        ),
        query=part(st.just(""), st.sampled_from(["?format=json", "?format=xml", "?x=1"])),
    )


steps = mostly(
    posts(),
    st.one_of(st.just(Settle()), st.builds(PayeeActive), st.builds(Overloaded)),
    unusual_percent=30,
)
scenarios = st.builds(
    Scenario,
    sender_active=mostly(st.just(True), st.just(False), unusual_percent=25),
    sender_funded=st.booleans(),
    keys=st.tuples(valid_keys, valid_keys),
    bodies=st.tuples(bodies(unusual_percent=8), bodies(unusual_percent=8)),
    steps=st.lists(steps, min_size=4, max_size=10).map(tuple),
)


# ---- running a scenario ------------------------------------------------------------------


@dataclass
class Side:
    """One of the two senders, with what its answers are normalised against."""

    fast: bool
    wallet: Account
    token: str
    names: dict  # transfer uuid -> "<transfer n>", in order of appearance

    def name_of(self, public_id: str) -> str:
        return self.names.setdefault(public_id, f"<transfer {len(self.names) + 1}>")


def side_create(*, fast: bool, active: bool, funded: bool) -> Side:
    wallet = wallet_create()
    if funded:  # only when a step settles: a deposit costs a settlement
        deposit(account=wallet, amount=50_000)
    if not active:
        get_user_model().objects.filter(pk=wallet.user.pk).update(is_active=False)
        wallet.user.is_active = False
    return Side(fast=fast, wallet=wallet, token=str(AccessToken.for_user(wallet.user)), names={})


def email_of(receiver: Receiver, *, side: Side, payee, inactive) -> str:
    return {
        Receiver.PAYEE: payee.email,
        Receiver.PAYEE_UPPER: payee.email.upper(),
        Receiver.PAYEE_PADDED: f" {payee.email} ",
        Receiver.INACTIVE: inactive.email,
        Receiver.SELF: side.wallet.user.email,
        Receiver.SELF_UPPER: side.wallet.user.email.upper(),
        Receiver.UNKNOWN: "nobody@example.in",
    }[receiver]


def body_bytes(body: Body, resolve) -> bytes:
    if isinstance(body.value, bytes):
        return body.value

    def spelled(value):
        if isinstance(value, Receiver):
            return resolve(value)
        if isinstance(value, dict):
            return {name: spelled(item) for name, item in value.items()}
        if isinstance(value, list):
            return [spelled(item) for item in value]
        return value

    text = json.dumps(spelled(body.value), ensure_ascii=body.ensure_ascii)
    errors = "replace" if body.encoding == "latin-1" else "surrogatepass"
    return text.encode(body.encoding, errors=errors)


def authorization(kind: str, side: Side, walletless) -> str | None:
    if kind == "valid":
        return f"Bearer {side.token}"
    if kind == "expired":
        token = AccessToken.for_user(side.wallet.user)
        token.set_exp(lifetime=-timedelta(minutes=1))
        return f"Bearer {token}"
    return {
        "none": None,
        "garbage": "Bearer not-a-token",
        "no-wallet": f"Bearer {AccessToken.for_user(walletless)}",
        "basic": "Basic dXNlcjpwYXNzd29yZA==",
    }[kind]


def key_header(choice: tuple, keys: tuple[str, str]) -> str | None:
    kind, value = choice
    if kind == "pool":
        return keys[value]
    if kind == "quoted":
        return f'"{keys[value]}"'
    return value


def normalised(value, side: Side):
    """`value` with the sender's identity, transfer ids, timestamps and request ids replaced
    by names that both sides share."""
    user = side.wallet.user
    if isinstance(value, dict):
        return {
            name: "<request id>" if name == "request_id" else normalised(item, side)
            for name, item in value.items()
        }
    if isinstance(value, list):
        return [normalised(item, side) for item in value]
    if isinstance(value, str):
        if value == str(user.pk):
            return "<sender id>"
        if value == user.email:
            return "<sender email>"
        if value == user.full_name:
            return "<sender name>"
        if TIMESTAMP.fullmatch(value):
            return "<timestamp>"
        if UUID.fullmatch(value):
            return side.name_of(value)
    return value


def answer_of(response, side: Side) -> dict:
    location = response.get("Location")
    if location is not None:
        location = UUID.sub(lambda m: side.name_of(m.group()), location)
    try:
        body = normalised(json.loads(response.content), side)
    except ValueError:
        body = ("not JSON", response.content[:200])
    return {
        "status": response.status_code,
        "content_type": response.get("Content-Type"),
        "location": location,
        "idempotent_replayed": response.get("Idempotent-Replayed"),
        "retry_after": "Retry-After" in response,
        "body": body,
    }


def rows_of(side: Side) -> list[dict]:
    rows = Transfer.objects.filter(sender=side.wallet).order_by("pk")
    return [
        {
            "id": side.name_of(str(row.uuid)),
            "kind": row.kind,
            "receiver_id": row.receiver_id,
            "amount": row.amount,
            "note": row.note,
            "status": row.status,
            "failure_code": row.failure_code,
            "idempotency_key": row.idempotency_key,
            "fingerprint": row.fingerprint,
            "partition_is_senders": row.partition == partition_of(account_id=side.wallet.pk),
            "initiated_by_id": row.initiated_by_id,
            "settled": row.settled_at is not None,
        }
        for row in rows
    ]


def answered_by_hot_path(response) -> bool:
    # The full path answers with DRF's Response, the hot path with a plain HttpResponse.
    return not isinstance(response, DrfResponse) and response.status_code in (200, 202)


def pending_settle(side: Side) -> None:
    pending = Transfer.objects.filter(sender=side.wallet, status=Transfer.Status.PENDING)
    with transaction.atomic(durable=True):
        transfers_settle(transfer_ids=list(pending.values_list("pk", flat=True)))


@dataclass(frozen=True)
class Others:
    """The users a request may name besides its sender."""

    payee: object
    inactive: object
    walletless: object  # signs a valid token but has no wallet


def post(client: Client, step: Post, *, scenario: Scenario, side: Side, others: Others):
    body = step.body if isinstance(step.body, Body) else scenario.bodies[step.body]

    def email(receiver: Receiver) -> str:
        return email_of(receiver, side=side, payee=others.payee, inactive=others.inactive)

    headers = {
        "Authorization": authorization(step.auth, side, others.walletless),
        "Idempotency-Key": key_header(step.key, scenario.keys),
        "Accept": step.accept,
    }
    with override_settings(TRANSFER_ACCEPT_FAST_PATH=side.fast):
        return client.generic(
            "POST",
            URL + step.query,
            data=body_bytes(body, email),
            content_type=step.content_type,
            headers={name: value for name, value in headers.items() if value is not None},
        )


# Derandomized: the same scenarios every run; about 12 s of CPU, 30 s of wall time while other
# suites share the 2 cores.
DIFFERENTIAL = hypothesis_settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    # Each example makes its own senders and payee, so the database shared across examples
    # (users, not their transfers) cannot make the two sides differ.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
GOOD_POST = Post(
    body=0,
    key=("pool", 0),
    content_type="application/json",
    accept=None,
    auth="valid",
    query="",
)
GOOD_BODY = Body({"receiver_email": Receiver.PAYEE, "amount": "12.50", "note": "chai"})


def known_case(*steps, funded: bool = False) -> Scenario:
    return Scenario(
        sender_active=True,
        sender_funded=funded,
        keys=("key-0000-a", "key-0000-b"),
        bodies=(GOOD_BODY, Body({**GOOD_BODY.value, "amount": "13.00"})),
        steps=steps,
    )


def backlog_view_fresh() -> None:
    """Waits until this process's view of the backlog is fresh (MAX_PENDING is -1: a fresh
    view is overloaded), so that it cannot go stale between the two sides' requests."""
    deadline = time.monotonic() + 10
    while not backlog_overloaded():
        assert time.monotonic() < deadline, "the backlog view stays stale"
        time.sleep(0.02)


def test_both_accept_paths_answer_every_request_alike():
    others = Others(
        payee=None, inactive=wallet_create(is_active=False).user, walletless=user_create()
    )
    answered = Counter()

    @DIFFERENTIAL
    @given(scenario=scenarios)
    # Requests the full path's content negotiation refuses or indents: the hot path must not
    # answer them itself.
    @example(known_case(replace(GOOD_POST, accept="text/html"), GOOD_POST))
    @example(known_case(replace(GOOD_POST, accept="application/json; indent=4"), GOOD_POST))
    @example(known_case(replace(GOOD_POST, query="?format=xml"), GOOD_POST))
    @example(known_case(replace(GOOD_POST, content_type=f"application/json; x={'x' * 300}")))
    # Replays of a settled transfer, a reused key, and replays under overload.
    @example(known_case(GOOD_POST, Settle(), GOOD_POST, replace(GOOD_POST, body=1), funded=True))
    @example(
        known_case(GOOD_POST, Overloaded(True), GOOD_POST, replace(GOOD_POST, key=("pool", 1)))
    )
    def both_paths_agree(scenario: Scenario):
        payee = wallet_create().user
        sides = [
            side_create(
                fast=fast,
                active=scenario.sender_active,
                funded=scenario.sender_funded and Settle() in scenario.steps,
            )
            for fast in (True, False)
        ]
        client, overloaded = Client(), False
        for number, step in enumerate(scenario.steps, 1):
            if isinstance(step, PayeeActive):
                get_user_model().objects.filter(pk=payee.pk).update(is_active=step.active)
            elif isinstance(step, Overloaded):
                overloaded = step.on
            elif isinstance(step, Settle):
                for side in sides:
                    pending_settle(side)
            else:
                answers = []
                with override_settings(MAX_PENDING=-1) if overloaded else nullcontext():
                    if overloaded:
                        backlog_view_fresh()
                    for side in sides:
                        context = replace(others, payee=payee)
                        response = post(client, step, scenario=scenario, side=side, others=context)
                        hot = answered_by_hot_path(response)
                        assert side.fast or not hot, "the hot path answered while turned off"
                        assert response.status_code < 500 or (
                            response.status_code == 503 and "Retry-After" in response
                        ), response.content
                        answered["hot path" if hot else "full path" if side.fast else "off"] += 1
                        answers.append(answer_of(response, side))
                assert answers[0] == answers[1], f"step {number} of {scenario!r:.3000}"
        assert rows_of(sides[0]) == rows_of(sides[1]), f"stored rows differ: {scenario!r:.3000}"

    both_paths_agree()
    # The comparison means something only if the hot path answered a good share itself.
    assert answered["hot path"] >= answered["off"] // 10, answered
