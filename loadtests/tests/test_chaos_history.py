"""The fault run's reading of its recorded history, and its recovery times."""

from loadtests.chaos.checker import TICKET, TRANSFER
from loadtests.chaos.recorded import recorded
from loadtests.chaos.recovery import Timeline, recovery_time

TRANSFER_PATH = "/api/wallet/transfer/"


def send(op, attempt, at, key="k1", path=TRANSFER_PATH, due=None):
    return {
        "t": "send", "op": op, "attempt": attempt, "name": "transfer", "method": "POST",
        "path": path, "sender": "a@x", "key": key, "body": {}, "due": due or at, "at": at,
    }  # fmt: skip


def answer(op, attempt, at, status, code=None, retry_after=None, transfer_id=None):
    return {
        "t": "answer", "op": op, "attempt": attempt, "status": status, "code": code,
        "retry_after": retry_after, "transfer_id": transfer_id, "at": at,
    }  # fmt: skip


def test_attempts_answers_absences_and_socket_connections_are_read_in_order():
    lines = [
        send(1, 1, 10.0),
        {"t": "no_answer", "op": 1, "attempt": 1, "error": "timed out", "at": 20.0},
        send(1, 2, 21.0),
        answer(1, 2, 21.5, 503, "service_unavailable", 1.0),
        send(1, 3, 23.0),
        answer(1, 3, 23.1, 200, transfer_id="t1"),
        send(2, 1, 11.0, key="k1"),  # a replay of the same key: offers nothing new
        answer(2, 1, 11.2, 200, transfer_id="t1"),
        send(3, 1, 12.0, key=None, path="/api/realtime/ticket/"),
        answer(3, 1, 12.1, 503, "service_unavailable", 1.0),
        {"t": "dropped", "op": 4, "name": "transfer", "due": 13.0},
        {"t": "ws_open", "socket": 7, "user": "a@x", "after_seq": None, "at": 1.0},
        {"t": "ws_frame", "socket": 7, "user": "a@x", "frame": {"type": "hello", "seq": 3}},
        {"t": "ws_frame", "socket": 7, "user": "a@x", "frame": {"type": "x", "seq": 4}},
        {"t": "ws_closed", "socket": 7, "user": "a@x", "code": 1006, "error": None},
        {"t": "ws_open", "socket": 7, "user": "a@x", "after_seq": 4, "at": 5.0},
        {"t": "ws_frame", "socket": 7, "user": "a@x", "frame": {"type": "hello", "seq": 6}},
        {"t": "ws_frame", "socket": 7, "user": "a@x", "frame": {"type": "x", "seq": 5}},
    ]
    history = recorded(lines)
    by_send = sorted(history.attempts, key=lambda a: a.sent)
    assert [(a.sent, a.status, a.code, a.endpoint) for a in by_send] == [
        (10.0, None, None, TRANSFER),
        (11.0, 200, None, TRANSFER),
        (12.0, 503, "service_unavailable", TICKET),
        (21.0, 503, "service_unavailable", TRANSFER),
        (23.0, 200, None, TRANSFER),
    ]
    assert by_send[3].retry_after and not by_send[0].retry_after
    assert by_send[4].transfer == "t1"
    assert history.offered == [10.0, 13.0]  # the first send of k1 and the dropped request
    assert history.dropped == 1
    assert [(c.after_seq, c.hello, c.frames) for c in history.sockets] == [
        (None, 3, ({"type": "x", "seq": 4},)),
        (4, 6, ({"type": "x", "seq": 5},)),
    ]


def steady(start: float, end: float, rate: float = 10.0) -> list[float]:
    return [start + i / rate for i in range(int((end - start) * rate))]


def test_recovery_is_the_first_healthy_moment_after_the_fault():
    offered = steady(0, 60)
    # Nothing accepted or settled from 20 s to 30 s; the backlog settles at 31 s.
    accepted = [t for t in offered if not 20 <= t < 30]
    settled = [t + 0.2 for t in offered if t < 20] + [31.0] * 100
    settled += [t + 0.2 for t in offered if t >= 30]
    lifetimes = [(t, t + 0.2 if not 20 <= t < 30 else 31.0) for t in offered]
    timeline = Timeline(offered, accepted, sorted(settled), lifetimes)
    assert recovery_time(timeline, end=25.0, until=60.0) == 6.0
    assert recovery_time(timeline, end=25.0, until=30.0) is None
    assert recovery_time(timeline, end=5.0, until=60.0) == 0.0


def test_a_transfer_left_pending_keeps_the_system_unrecovered():
    offered = steady(0, 60)
    lifetimes = [(t, t + 0.2) for t in offered] + [(20.0, None)]
    timeline = Timeline(offered, offered, [t + 0.2 for t in offered], lifetimes)
    assert timeline.stale_pending(31.0)
    assert not timeline.stale_pending(29.0)
    assert recovery_time(timeline, end=25.0, until=60.0) is None
