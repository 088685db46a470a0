"""The history checker of a fault run: the whole recorded history against the database.

Run once the load has stopped and the system is quiet. Its inputs are plain data (so small
hand-made histories can test it): every HTTP attempt the driver made (`Attempt`, one per
send, retries of a key included), every socket connection with the frames it received
(`SocketConnection`), the faults injected (`FaultWindow`), and a snapshot of what the
database holds for the run's keys and socket users (`Ledger`, read by `loadtests.chaos.ledger`).
Each promise is one function returning a `Verdict`; a verdict fails on the first violation
and lists examples. Nothing here is tolerant by design: a violation of the system's promise
fails the run.

The promises (README, "make chaos"):

- accepted_settled_once: every key answered 202 or 200 exists exactly once, as the transfer
  the answer named, ends SUCCESS or FAILED, with two ledger entries for SUCCESS and none for
  FAILED, and exactly one final `transfer.updated` event per party concerned;
- no_5xx: no answer is a 5xx, except a 503 in the error envelope with Retry-After: code
  `overloaded` on the transfer endpoint while a PENDING transfer was older than the stack's
  MAX_PENDING_AGE (backpressure, within `BACKPRESSURE_SLACK`), or
  `service_unavailable` while a fault that allows it lasts (plus a grace period): a
  PostgreSQL outage for every endpoint, a Redis outage only for the ticket endpoint;
- well_formed_accepted: a well-formed transfer is never refused with a 4xx other than a
  429 (throttled) with Retry-After;
- retried_until_final: every key that saw no answer or a 503 `service_unavailable` was
  retried until it got 200, 202, a 4xx or a 503 `overloaded` (then the next promise holds);
  a key that never got 200 or 202 is not stored; nothing is stored under a key never sent;
- overloaded_not_stored: a key whose last answer was 503 `overloaded` does not exist;
- backpressure: no new transfer is accepted (202) while a PENDING transfer is older than
  the stack's MAX_PENDING_AGE (with `BACKPRESSURE_SLACK` seconds for each process's view of
  the backlog, refreshed at most once a second; not judged when PostgreSQL was down within
  that slack, since no process could read the backlog then);
- sender_order: when A's 202 (or 200) reached its sender before B was first sent by the same
  sender, A was accepted first, settled no later, and (both SUCCESS) booked first;
- ledger_audit: `manage.py ledger_audit` clean;
- socket_streams: each socket user's frames, joined across reconnects, are exactly its stored
  events after the first `hello`, in order, no gap, no duplicate, up to its latest event.
"""

import bisect
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

EXAMPLES = 5  # violations listed per verdict
BACKPRESSURE_SLACK = 2.0
FINAL_STATUSES = ("SUCCESS", "FAILED")
TRANSFER = "transfer"
TICKET = "ticket"
ANY = "*"


@dataclass(frozen=True)
class Attempt:
    """One send of a request. `status` None: no answer (timeout, connection reset)."""

    sender: str
    key: str
    sent: float  # wall clock, seconds
    answered: float | None = None
    status: int | None = None
    code: str | None = None  # the error envelope's code; None for a success or no envelope
    retry_after: bool = False
    transfer: str | None = None  # the uuid an answer named
    endpoint: str = TRANSFER


@dataclass(frozen=True)
class SocketConnection:
    """One socket of a user, in the order they were opened. `hello` None: no hello came."""

    user: str
    after_seq: int | None
    hello: int | None
    frames: tuple[dict, ...] = ()  # every frame after hello, as received (pongs included)


@dataclass(frozen=True)
class FaultWindow:
    name: str
    start: float
    end: float
    # Endpoints that may answer 503 service_unavailable meanwhile (ANY: every endpoint).
    unavailable: frozenset[str] = frozenset()


@dataclass(frozen=True)
class StoredTransfer:
    uuid: str
    accept_order: int  # the transfer's id: its database sequence number
    sender: str
    key: str
    status: str
    created_at: float
    settled_at: float | None
    entries: int
    sender_entry: int | None = None  # id of the sender's ledger entry (SUCCESS only)
    receiver: str = ""
    final_events: dict[str, int] = field(default_factory=dict)  # user -> final events


@dataclass
class Ledger:
    """What the database holds. `transfers` may hold several rows per (sender, key) only if
    the uniqueness of keys were broken; the checker says so."""

    transfers: list[StoredTransfer]
    events: dict[str, list[dict]]  # socket user -> stored messages in seq order
    audit_ok: bool = True
    audit_text: str = ""


@dataclass
class Verdict:
    name: str
    promise: str
    checked: int = 0
    violations: list[str] = field(default_factory=list)
    count: int = 0
    note: str = ""  # what was not judged, and why

    @property
    def passed(self) -> bool:
        return self.count == 0

    def violation(self, text: str) -> None:
        self.count += 1
        if len(self.violations) < EXAMPLES:
            self.violations.append(text)

    def line(self) -> str:
        note = f"; {self.note}" if self.note else ""
        if self.passed:
            return f"PASS ({self.checked:,} checked{note})"
        return f"FAIL: {self.count:,} of {self.checked:,}{note}; e.g. " + "; ".join(self.violations)


@dataclass
class History:
    attempts: list[Attempt]
    sockets: list[SocketConnection]
    faults: list[FaultWindow]
    grace: float = 10.0  # seconds after a fault in which its 503s are still allowed
    max_pending_age: float | None = None  # the stack's MAX_PENDING_AGE; None: not checked

    def by_key(self) -> dict[tuple[str, str], list[Attempt]]:
        keys: dict[tuple[str, str], list[Attempt]] = defaultdict(list)
        for attempt in sorted(self.attempts, key=lambda a: a.sent):
            if attempt.endpoint == TRANSFER:
                keys[(attempt.sender, attempt.key)].append(attempt)
        return keys


class PendingAges:
    """When transfers were PENDING, from (created, settled or None) pairs: whether any
    transfer created before a moment was still PENDING at another, in one lookup."""

    def __init__(self, lifetimes: Iterable[tuple[float, float | None]]) -> None:
        ordered = sorted(lifetimes, key=lambda lifetime: lifetime[0])
        self._created = [created for created, _ in ordered]
        # The latest settlement among the i+1 earliest-created transfers (never: infinity).
        settled = (math.inf if s is None else s for _, s in ordered)
        self._settled_by = list(itertools.accumulate(settled, max))

    def pending(self, *, created_before: float, at: float) -> bool:
        created = bisect.bisect_right(self._created, created_before)
        return created > 0 and self._settled_by[created - 1] > at


def _stored(ledger: Ledger) -> dict[tuple[str, str], list[StoredTransfer]]:
    rows: dict[tuple[str, str], list[StoredTransfer]] = defaultdict(list)
    for transfer in ledger.transfers:
        rows[(transfer.sender, transfer.key)].append(transfer)
    return rows


def _accepted(attempts: Iterable[Attempt]) -> list[Attempt]:
    return [a for a in attempts if a.status in (200, 202)]


# The promises -------------------------------------------------------------------------------


def accepted_settled_once(history: History, ledger: Ledger) -> Verdict:
    verdict = Verdict(
        "accepted_settled_once",
        "every key answered 202/200 exists exactly once and ends SUCCESS or FAILED once",
    )
    stored = _stored(ledger)
    for (sender, key), attempts in history.by_key().items():
        accepted = _accepted(attempts)
        if not accepted:
            continue
        verdict.checked += 1
        rows = stored.get((sender, key), [])
        where = f"{sender} key {key}"
        if len(rows) != 1:
            verdict.violation(f"{where}: answered {accepted[0].status}, {len(rows)} rows stored")
            continue
        row = rows[0]
        named = {a.transfer for a in accepted}
        if named != {row.uuid}:
            verdict.violation(
                f"{where}: answers named {sorted(map(str, named))}, stored {row.uuid}"
            )
        elif row.status not in FINAL_STATUSES:
            verdict.violation(f"{where}: transfer {row.uuid} still {row.status}")
        elif row.entries != (2 if row.status == "SUCCESS" else 0):
            verdict.violation(f"{where}: {row.status} with {row.entries} ledger entries")
        else:
            parties = [row.sender] + ([row.receiver] if row.status == "SUCCESS" else [])
            wrong = {
                user: row.final_events.get(user, 0)
                for user in set(parties) | set(row.final_events)
                if row.final_events.get(user, 0) != (1 if user in parties else 0)
            }
            if wrong:
                verdict.violation(
                    f"{where}: {row.status} with final transfer.updated events {wrong} "
                    f"(one per party expected)"
                )
    return verdict


def _allowed_unavailable(attempt: Attempt, history: History) -> bool:
    answered = attempt.answered if attempt.answered is not None else attempt.sent
    return any(
        (attempt.endpoint in fault.unavailable or ANY in fault.unavailable)
        and attempt.sent <= fault.end + history.grace
        and answered >= fault.start
        for fault in history.faults
    )


def _allowed_503(attempt: Attempt, history: History, ages: PendingAges) -> bool:
    if attempt.code == "overloaded":
        return attempt.endpoint == TRANSFER and _under_backpressure(attempt, history, ages)
    return attempt.code == "service_unavailable" and _allowed_unavailable(attempt, history)


def _under_backpressure(attempt: Attempt, history: History, ages: PendingAges) -> bool:
    """Whether, within BACKPRESSURE_SLACK of the request, a PENDING transfer was older than
    MAX_PENDING_AGE (always True when the run did not say what MAX_PENDING_AGE is)."""
    if history.max_pending_age is None:
        return True
    return ages.pending(
        created_before=attempt.sent + BACKPRESSURE_SLACK - history.max_pending_age,
        at=attempt.sent - BACKPRESSURE_SLACK,
    )


def no_5xx(history: History, ledger: Ledger) -> Verdict:
    verdict = Verdict(
        "no_5xx",
        "no 5xx but a 503 with Retry-After: overloaded (transfers) under backpressure, or "
        "service_unavailable while a fault allows it",
    )
    ages = PendingAges((t.created_at, t.settled_at) for t in ledger.transfers)
    for attempt in history.attempts:
        if attempt.status is None:
            continue
        verdict.checked += 1
        if attempt.status < 500:
            continue
        what = f"{attempt.endpoint} {attempt.sender} key {attempt.key} at {attempt.sent:.3f}"
        if attempt.status != 503:
            verdict.violation(f"{attempt.status} {attempt.code} on {what}")
        elif not attempt.retry_after:
            verdict.violation(f"503 {attempt.code} without Retry-After on {what}")
        elif not _allowed_503(attempt, history, ages):
            verdict.violation(f"503 {attempt.code} outside any fault that allows it on {what}")
    return verdict


def well_formed_accepted(history: History, ledger: Ledger) -> Verdict:
    verdict = Verdict(
        "well_formed_accepted",
        "a well-formed transfer gets no 4xx but a 429 with Retry-After",
    )
    for attempt in history.attempts:
        if attempt.endpoint != TRANSFER or attempt.status is None:
            continue
        verdict.checked += 1
        if 400 <= attempt.status < 500 and not (attempt.status == 429 and attempt.retry_after):
            verdict.violation(
                f"{attempt.status} {attempt.code} for {attempt.sender} key {attempt.key} "
                f"at {attempt.sent:.3f}"
            )
    return verdict


def _final(attempt: Attempt) -> bool:
    """An answer after which the driver may stop retrying the key."""
    if attempt.status is None:
        return False
    if attempt.status in (200, 202) or 400 <= attempt.status < 500:
        return True
    return attempt.status == 503 and attempt.code == "overloaded"


def retried_until_final(history: History, ledger: Ledger) -> Verdict:
    verdict = Verdict(
        "retried_until_final",
        "no answer or 503 service_unavailable was retried with the same key until 200, 202 or "
        "a 4xx; keys never answered 200/202 are not stored; nothing stored unsent",
    )
    stored = _stored(ledger)
    keys = history.by_key()
    for (sender, key), attempts in keys.items():
        verdict.checked += 1
        last = attempts[-1]
        where = f"{sender} key {key} ({len(attempts)} attempts)"
        if not _final(last):
            outcome = "no answer" if last.status is None else f"{last.status} {last.code}"
            verdict.violation(f"{where}: last attempt got {outcome}")
        elif not _accepted(attempts) and stored.get((sender, key)):
            verdict.violation(
                f"{where}: stored as {stored[(sender, key)][0].uuid} but last answered "
                f"{last.status} {last.code}, never 200/202"
            )
    for sender, key in stored.keys() - keys.keys():
        verdict.violation(f"{sender} key {key}: stored, never sent by the load")
    return verdict


def overloaded_not_stored(history: History, ledger: Ledger) -> Verdict:
    verdict = Verdict(
        "overloaded_not_stored", "a key whose last answer was 503 overloaded does not exist"
    )
    stored = _stored(ledger)
    for (sender, key), attempts in history.by_key().items():
        last = attempts[-1]
        if last.status == 503 and last.code == "overloaded":
            verdict.checked += 1
            if stored.get((sender, key)):
                verdict.violation(
                    f"{sender} key {key}: answered 503 overloaded, stored as "
                    f"{stored[(sender, key)][0].uuid} ({stored[(sender, key)][0].status})"
                )
    return verdict


def backpressure(history: History, ledger: Ledger) -> Verdict:
    age = history.max_pending_age
    verdict = Verdict(
        "backpressure",
        f"no new transfer accepted (202) while a PENDING one was older than MAX_PENDING_AGE "
        f"({age if age is not None else 'not set'} s), {BACKPRESSURE_SLACK:g} s of slack",
    )
    if age is None:
        return verdict
    ages = PendingAges((t.created_at, t.settled_at) for t in ledger.transfers)
    database_down = [f for f in history.faults if ANY in f.unavailable]
    unjudged = 0
    for attempt in history.attempts:
        if attempt.endpoint != TRANSFER or attempt.status != 202:
            continue
        since = attempt.sent - BACKPRESSURE_SLACK
        if any(f.start <= attempt.sent and since <= f.end for f in database_down):
            unjudged += 1
            continue
        verdict.checked += 1
        # A transfer already too old BACKPRESSURE_SLACK before the request and still
        # PENDING when it was sent: every view of the backlog since then showed it.
        too_old = attempt.sent - BACKPRESSURE_SLACK - age
        if ages.pending(created_before=too_old, at=attempt.sent):
            verdict.violation(
                f"{attempt.sender} key {attempt.key} accepted at {attempt.sent:.3f} while a "
                f"transfer created before {too_old:.3f} was still PENDING"
            )
    if unjudged:
        verdict.note = f"{unjudged:,} sent within {BACKPRESSURE_SLACK:g} s of a PostgreSQL outage"
    return verdict


def sender_order(history: History, ledger: Ledger) -> Verdict:
    verdict = Verdict(
        "sender_order",
        "A's 202 before B was sent (same sender): A accepted first, settled no later, booked first",
    )
    stored = {(t.sender, t.key): t for t in ledger.transfers}
    by_sender: dict[str, list[tuple[float, float, StoredTransfer]]] = defaultdict(list)
    for (sender, key), attempts in history.by_key().items():
        accepted = _accepted(attempts)
        row = stored.get((sender, key))
        if accepted and row is not None:
            first_answer = min(a.answered for a in accepted if a.answered is not None)
            by_sender[sender].append((attempts[0].sent, first_answer, row))
    for sender, transfers in by_sender.items():
        # For each B, every A answered before B's first send must precede it: comparing B
        # with the latest-accepted, the latest-settled and the latest-booked such A, and
        # with one still PENDING, covers them all. B itself PENDING breaks no order (it is
        # accepted_settled_once's violation).
        transfers.sort(key=lambda t: t[0])  # by B's first send
        answered = sorted(transfers, key=lambda t: t[1])
        i = 0
        max_order: StoredTransfer | None = None
        max_settled: StoredTransfer | None = None
        max_entry: StoredTransfer | None = None
        unsettled: StoredTransfer | None = None
        for sent, _, b in transfers:
            while i < len(answered) and answered[i][1] < sent:
                a = answered[i][2]
                if max_order is None or a.accept_order > max_order.accept_order:
                    max_order = a
                if a.settled_at is None:
                    unsettled = unsettled or a
                elif max_settled is None or a.settled_at > max_settled.settled_at:
                    max_settled = a
                if a.sender_entry is not None and (
                    max_entry is None or a.sender_entry > max_entry.sender_entry
                ):
                    max_entry = a
                i += 1
            if max_order is None:
                continue
            verdict.checked += 1
            earlier = f"{sender}: answered before {b.uuid} was sent,"
            if max_order.accept_order >= b.accept_order:
                verdict.violation(
                    f"{earlier} {max_order.uuid} was accepted after it "
                    f"({max_order.accept_order} >= {b.accept_order})"
                )
            elif b.settled_at is not None and unsettled is not None:
                verdict.violation(f"{earlier} {unsettled.uuid} is PENDING, but it settled")
            elif (
                b.settled_at is not None
                and max_settled is not None
                and (max_settled.settled_at > b.settled_at)
            ):
                verdict.violation(f"{earlier} {max_settled.uuid} settled after it")
            elif (
                max_entry is not None
                and b.sender_entry is not None
                and max_entry.sender_entry > b.sender_entry
            ):
                verdict.violation(
                    f"{earlier} {max_entry.uuid} was booked after it (ledger entry "
                    f"{max_entry.sender_entry} > {b.sender_entry})"
                )
    return verdict


def ledger_audit(history: History, ledger: Ledger) -> Verdict:
    verdict = Verdict("ledger_audit", "manage.py ledger_audit is clean", checked=1)
    if not ledger.audit_ok:
        verdict.violation(ledger.audit_text.strip().replace("\n", " / ")[:600] or "failed")
    return verdict


EVENT_TYPES = ("transfer.updated", "balance.updated")


def socket_streams(history: History, ledger: Ledger) -> Verdict:
    verdict = Verdict(
        "socket_streams",
        "each user's frames across reconnects = its stored events after the first hello, in "
        "order, no gap, no duplicate, to the last",
    )
    by_user: dict[str, list[SocketConnection]] = defaultdict(list)
    for connection in history.sockets:
        by_user[connection.user].append(connection)
    for user, connections in by_user.items():
        verdict.checked += 1
        opened = [c for c in connections if c.hello is not None]
        if not opened:
            verdict.violation(f"{user}: no socket ever got hello")
            continue
        start = opened[0].hello
        joined = [
            frame
            for connection in opened
            for frame in connection.frames
            if frame.get("type") in EVENT_TYPES
        ]
        stored = [m for m in ledger.events.get(user, []) if m["seq"] > start]
        expected_seqs = [m["seq"] for m in stored]
        seqs = [frame.get("seq") for frame in joined]
        if seqs != expected_seqs:
            verdict.violation(f"{user}: {_seq_difference(seqs, expected_seqs, start)}")
            continue
        different = next(
            (i for i, (f, m) in enumerate(zip(joined, stored, strict=True)) if f != m), None
        )
        if different is not None:
            verdict.violation(
                f"{user}: frame seq {seqs[different]} differs from the stored event: "
                f"{str(joined[different])[:160]} != {str(stored[different])[:160]}"
            )
    return verdict


def _seq_difference(seqs: list, expected: list[int], start: int) -> str:
    seen: set = set()
    duplicates = sorted({s for s in seqs if s in seen or seen.add(s)}, key=str)
    missing = sorted(set(expected) - set(seqs))
    unknown = sorted({s for s in seqs if s not in set(expected)}, key=str)
    out_of_order = next(
        (
            f"seq {b} after {a}"
            for a, b in itertools.pairwise(seqs)
            if isinstance(a, int) and b != a + 1
        ),
        None,
    )
    parts = [f"after hello {start}: {len(seqs)} frames, {len(expected)} stored"]
    if missing:
        parts.append(f"missing {_span(missing)}")
    if duplicates:
        parts.append(f"duplicated {_span(duplicates)}")
    if unknown:
        parts.append(f"not stored {_span(unknown)}")
    if out_of_order:
        parts.append(f"first break: {out_of_order}")
    return ", ".join(parts)


def _span(values: list) -> str:
    shown = ", ".join(map(str, values[:8]))
    return f"[{shown}{', ...' if len(values) > 8 else ''}] ({len(values)})"


PROMISES = (
    accepted_settled_once,
    no_5xx,
    well_formed_accepted,
    retried_until_final,
    overloaded_not_stored,
    backpressure,
    sender_order,
    ledger_audit,
    socket_streams,
)


def check(history: History, ledger: Ledger) -> list[Verdict]:
    return [promise(history, ledger) for promise in PROMISES]
