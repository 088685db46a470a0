"""The fault run's history checker against small hand-made histories: a clean history passes
every promise, and a history that breaks one promise fails exactly that promise."""

from dataclasses import replace

import pytest

from loadtests.chaos.checker import (
    Attempt,
    FaultWindow,
    History,
    Ledger,
    SocketConnection,
    StoredTransfer,
    check,
)

A, B = "a@x.test", "b@x.test"


def transfer_event(seq: int, uuid: str, status: str) -> dict:
    return {"type": "transfer.updated", "seq": seq, "transfer": {"id": uuid, "status": status}}


def balance_event(seq: int, balance: str) -> dict:
    return {"type": "balance.updated", "seq": seq, "balance": {"balance": balance}}


def unavailable(key: str, sent: float, endpoint: str = "transfer") -> Attempt:
    """A 503 service_unavailable with Retry-After, answered 0.1 s after `sent`."""
    return Attempt(
        A, key, sent=sent, answered=sent + 0.1, status=503, code="service_unavailable",
        retry_after=True, endpoint=endpoint,
    )  # fmt: skip


def stored(uuid, order, key, *, sender=A, receiver=B, status="SUCCESS", settled=None, entry=None):
    success = status == "SUCCESS"
    return StoredTransfer(
        uuid=uuid,
        accept_order=order,
        sender=sender,
        key=key,
        status=status,
        created_at=100.0 + order,
        settled_at=settled if settled is not None else 100.5 + order,
        entries=2 if success else 0,
        sender_entry=(entry if entry is not None else order) if success else None,
        receiver=receiver,
        final_events={sender: 1, receiver: 1} if success else {sender: 1},
    )


def clean() -> tuple[History, Ledger]:
    """A sends k1 (202), k2 after k1's answer (no answer, retried: 200); during a PostgreSQL
    outage k4 gets 503 service_unavailable then 202, and stays PENDING until 112 s; k3, sent
    at 110 s, is answered 503 overloaded (k4 is older than MAX_PENDING_AGE) and not retried.
    A's socket drops once and resumes with after_seq."""
    attempts = [
        Attempt(A, "k1", sent=1.0, answered=1.1, status=202, transfer="t1"),
        Attempt(A, "k2", sent=2.0, answered=None, status=None),
        Attempt(A, "k2", sent=3.0, answered=3.1, status=200, transfer="t2"),
        Attempt(
            A, "k3", sent=110.0, answered=110.1, status=503, code="overloaded", retry_after=True
        ),
        unavailable("k4", 50.0),
        Attempt(A, "k4", sent=70.0, answered=70.1, status=202, transfer="t4"),
        unavailable("ticket", 51.0, endpoint="ticket"),
    ]
    events = [
        transfer_event(4, "t1", "SUCCESS"),
        balance_event(5, "90.00"),
        transfer_event(6, "t2", "SUCCESS"),
        balance_event(7, "80.00"),
        transfer_event(8, "t4", "FAILED"),
        balance_event(9, "80.00"),
    ]
    sockets = [
        SocketConnection(A, after_seq=None, hello=3, frames=tuple(events[:3])),
        SocketConnection(A, after_seq=6, hello=9, frames=(*events[3:], {"type": "pong", "seq": 9})),
    ]
    faults = [
        FaultWindow("postgres stopped", 49.0, 59.0, frozenset({"transfer", "ticket"})),
        FaultWindow("redis stopped", 80.0, 90.0, frozenset({"ticket"})),
    ]
    ledger = Ledger(
        transfers=[
            stored("t1", 1, "k1"),
            stored("t2", 2, "k2"),
            stored("t4", 3, "k4", status="FAILED", settled=112.0),
        ],
        events={A: [*[balance_event(s, "100.00") for s in (1, 2, 3)], *events]},
    )
    return History(attempts, sockets, faults, max_pending_age=5.0), ledger


def failed(history: History, ledger: Ledger) -> set[str]:
    return {verdict.name for verdict in check(history, ledger) if not verdict.passed}


def test_a_clean_history_passes_every_promise():
    history, ledger = clean()
    verdicts = check(history, ledger)
    assert [v.name for v in verdicts if not v.passed] == []
    assert all(v.checked for v in verdicts)


def without(ledger: Ledger, key: str) -> list[StoredTransfer]:
    return [t for t in ledger.transfers if t.key != key]


def with_row(ledger: Ledger, key: str, **changes) -> list[StoredTransfer]:
    return [replace(t, **changes) if t.key == key else t for t in ledger.transfers]


# accepted_settled_once ------------------------------------------------------------------------


def test_an_accepted_key_that_is_not_stored_fails():
    history, ledger = clean()
    ledger.transfers = without(ledger, "k1")
    # The missing row also breaks sender order (nothing to compare); the socket is unchanged.
    assert "accepted_settled_once" in failed(history, ledger)


def test_an_accepted_key_stored_twice_fails():
    history, ledger = clean()
    ledger.transfers.append(stored("t1b", 9, "k1"))
    assert "accepted_settled_once" in failed(history, ledger)


def test_an_accepted_transfer_left_pending_fails():
    history, ledger = clean()
    ledger.transfers = with_row(
        ledger, "k2", status="PENDING", settled_at=None, entries=0, sender_entry=None,
        final_events={},
    )  # fmt: skip
    assert "accepted_settled_once" in failed(history, ledger)


def test_an_answer_naming_another_transfer_fails():
    history, ledger = clean()
    ledger.transfers = with_row(ledger, "k1", uuid="other")
    assert failed(history, ledger) == {"accepted_settled_once"}


def test_a_success_without_its_two_entries_fails():
    history, ledger = clean()
    ledger.transfers = with_row(ledger, "k1", entries=4)
    assert failed(history, ledger) == {"accepted_settled_once"}


def test_a_transfer_finished_twice_fails():
    history, ledger = clean()
    ledger.transfers = with_row(ledger, "k1", final_events={A: 2, B: 1})
    assert failed(history, ledger) == {"accepted_settled_once"}


# no_5xx ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attempt",
    [
        Attempt(A, "k9", sent=5.0, answered=5.1, status=500, code="internal_error"),
        Attempt(A, "k9", sent=5.0, answered=5.1, status=502, code=None),
        Attempt(A, "k9", sent=5.0, answered=5.1, status=503, code="overloaded"),  # no Retry-After
        # service_unavailable outside any fault
        unavailable("k9", 5.0),
        # a transfer during a Redis outage must keep working
        unavailable("k9", 81.0),
    ],
    ids=["500", "502", "503 without Retry-After", "503 outside a fault", "503 in Redis outage"],
)
def test_a_5xx_that_is_not_allowed_fails(attempt):
    history, ledger = clean()
    final = Attempt(A, "k9", sent=90.0 + 10, answered=100.1, status=202, transfer="t9")
    history.attempts += [attempt, final]
    ledger.transfers.append(stored("t9", 9, "k9", settled=113.0))  # after k4, sent before it
    assert failed(history, ledger) == {"no_5xx"}


def test_service_unavailable_in_the_grace_period_after_a_fault_passes():
    history, ledger = clean()
    history.attempts.append(unavailable("k9", 65.0))
    history.attempts.append(Attempt(A, "k9", sent=71.0, answered=71.1, status=202, transfer="t9"))
    ledger.transfers.append(stored("t9", 9, "k9"))
    assert failed(history, ledger) == set()


# well_formed_accepted ---------------------------------------------------------------------------


def test_a_4xx_to_a_well_formed_transfer_fails():
    history, ledger = clean()
    history.attempts.append(
        Attempt(A, "k9", sent=5.0, answered=5.1, status=422, code="idempotency_key_reused")
    )
    assert failed(history, ledger) == {"well_formed_accepted"}


# retried_until_final ----------------------------------------------------------------------------


def test_a_key_left_without_an_answer_fails():
    history, ledger = clean()
    history.attempts.append(Attempt(A, "k9", sent=5.0))
    assert failed(history, ledger) == {"retried_until_final"}


def test_a_key_left_at_service_unavailable_fails():
    history, ledger = clean()
    history.attempts.append(unavailable("k9", 50.0))
    assert failed(history, ledger) == {"retried_until_final"}


def test_a_key_stored_without_an_accepting_answer_fails():
    history, ledger = clean()
    history.attempts.append(Attempt(A, "k9", sent=5.0, answered=5.1, status=429, retry_after=True))
    ledger.transfers.append(stored("t9", 9, "k9"))
    assert failed(history, ledger) == {"retried_until_final"}


def test_a_transfer_stored_under_a_key_never_sent_fails():
    history, ledger = clean()
    ledger.transfers.append(stored("t9", 9, "never-sent"))
    assert failed(history, ledger) == {"retried_until_final"}


# overloaded_not_stored --------------------------------------------------------------------------


def test_a_key_answered_overloaded_that_exists_fails():
    history, ledger = clean()
    ledger.transfers.append(stored("t3", 9, "k3"))
    assert "overloaded_not_stored" in failed(history, ledger)


# backpressure -----------------------------------------------------------------------------------


def accepted_from_b_at(history: History, ledger: Ledger, sent: float) -> None:
    history.attempts.append(
        Attempt(B, "k9", sent=sent, answered=sent + 0.1, status=202, transfer="t9")
    )
    ledger.transfers.append(stored("t9", 9, "k9", sender=B, receiver=A, settled=sent + 0.5))


def test_a_transfer_accepted_while_one_was_pending_too_long_fails():
    history, ledger = clean()
    accepted_from_b_at(history, ledger, 110.0)  # k4, created at 103 s, is PENDING until 112 s
    assert failed(history, ledger) == {"backpressure"}


def test_a_transfer_accepted_while_the_backlog_was_young_passes():
    history, ledger = clean()
    ledger.transfers = with_row(ledger, "k4", settled_at=106.0)
    accepted_from_b_at(history, ledger, 110.0)
    assert "backpressure" not in failed(history, ledger)


def test_backpressure_is_not_judged_right_after_a_postgresql_outage():
    history, ledger = clean()
    history.faults.append(FaultWindow("postgres stopped", 100.0, 108.5, frozenset({"*"})))
    accepted_from_b_at(history, ledger, 110.0)  # 1.5 s after PostgreSQL came back
    verdicts = {v.name: v for v in check(history, ledger)}
    assert verdicts["backpressure"].passed
    assert "1 sent within 2 s of a PostgreSQL outage" in verdicts["backpressure"].line()


def test_overloaded_without_a_backlog_fails():
    history, ledger = clean()
    ledger.transfers = with_row(ledger, "k4", settled_at=104.0)  # nothing PENDING at 110 s
    assert failed(history, ledger) == {"no_5xx"}


# sender_order -----------------------------------------------------------------------------------


def test_a_later_transfer_accepted_first_fails():
    history, ledger = clean()
    ledger.transfers = with_row(ledger, "k1", accept_order=5)
    assert failed(history, ledger) == {"sender_order"}


def test_a_later_transfer_settled_first_fails():
    history, ledger = clean()
    ledger.transfers = with_row(ledger, "k1", settled_at=500.0)
    assert failed(history, ledger) == {"sender_order"}


def test_a_later_transfer_settled_while_an_earlier_one_is_pending_fails():
    history, ledger = clean()
    ledger.transfers = with_row(
        ledger, "k1", status="PENDING", settled_at=None, entries=0, sender_entry=None,
        final_events={},
    )  # fmt: skip
    verdicts = {v.name: v for v in check(history, ledger)}
    assert not verdicts["sender_order"].passed
    assert "is PENDING, but it settled" in verdicts["sender_order"].violations[0]


def test_a_later_transfer_left_pending_breaks_no_order():
    history, ledger = clean()
    ledger.transfers = with_row(
        ledger, "k4", status="PENDING", settled_at=None, entries=0, sender_entry=None,
        final_events={},
    )  # fmt: skip
    assert failed(history, ledger) == {"accepted_settled_once"}


def test_a_later_transfer_booked_first_fails():
    history, ledger = clean()
    ledger.transfers = with_row(ledger, "k1", sender_entry=50)
    assert failed(history, ledger) == {"sender_order"}


def test_transfers_in_flight_together_may_settle_in_either_order():
    history, ledger = clean()
    # k2's first send (2.0) came before k1's answer: no order between them is promised.
    history.attempts[0] = replace(history.attempts[0], answered=2.5)
    ledger.transfers = with_row(ledger, "k1", accept_order=2, sender_entry=2)
    ledger.transfers = with_row(ledger, "k2", accept_order=1, sender_entry=1)
    assert failed(history, ledger) == set()


# ledger_audit -----------------------------------------------------------------------------------


def test_a_failed_audit_fails():
    history, ledger = clean()
    ledger.audit_ok, ledger.audit_text = False, "balances_sum_not_zero: all balances sum to 1.00"
    assert failed(history, ledger) == {"ledger_audit"}


# socket_streams ---------------------------------------------------------------------------------


def with_frames(history: History, connection: int, frames: tuple) -> None:
    history.sockets[connection] = replace(history.sockets[connection], frames=frames)


def test_a_gap_across_a_reconnect_fails():
    history, ledger = clean()
    with_frames(history, 1, history.sockets[1].frames[1:])  # seq 7 never arrived
    assert failed(history, ledger) == {"socket_streams"}


def test_a_duplicate_across_a_reconnect_fails():
    history, ledger = clean()
    first = history.sockets[0].frames
    with_frames(history, 1, (first[-1], *history.sockets[1].frames))  # seq 6 again
    assert failed(history, ledger) == {"socket_streams"}


def test_frames_out_of_order_fail():
    history, ledger = clean()
    a, b, c = history.sockets[0].frames
    with_frames(history, 0, (a, c, b))
    assert failed(history, ledger) == {"socket_streams"}


def test_a_missing_last_event_fails():
    history, ledger = clean()
    with_frames(history, 1, history.sockets[1].frames[:-2])  # seq 9 and the pong
    assert failed(history, ledger) == {"socket_streams"}


def test_a_frame_that_differs_from_the_stored_event_fails():
    history, ledger = clean()
    frames = list(history.sockets[0].frames)
    frames[0] = transfer_event(4, "t1", "FAILED")
    with_frames(history, 0, tuple(frames))
    assert failed(history, ledger) == {"socket_streams"}


def test_a_user_whose_socket_never_opened_fails():
    history, ledger = clean()
    history.sockets.append(SocketConnection(B, after_seq=None, hello=None))
    assert failed(history, ledger) == {"socket_streams"}
