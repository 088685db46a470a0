"""The history of a run: every request attempt, its answer or the lack of one, every request
the open loop dropped, and every socket event, one JSON object per line, in the order they
happened in this process. A fault run's checker reads all of it afterwards.

Lines (`t` says which; times `at`/`due` are Unix seconds, wall clock):

    {"t": "send", "op": 7, "attempt": 1, "name": "transfer", "method": "POST",
     "path": "/api/wallet/transfer/", "sender": "a@x", "key": "u-1f2e-000000007",
     "body": {"receiver_email": "b@x", "amount": "1.25"}, "due": ..., "at": ...}
    {"t": "answer", "op": 7, "attempt": 1, "status": 202, "code": null, "retry_after": null,
     "transfer_id": "...", "transfer_status": "PENDING", "replayed": false, "at": ...}
    {"t": "no_answer", "op": 7, "attempt": 1, "error": "timed out", "at": ...}
    {"t": "dropped", "op": 8, "name": "transfer", "due": ...}
    {"t": "ws_open", "socket": 3, "user": "a@x", "after_seq": 41, "at": ...}
    {"t": "ws_frame", "socket": 3, "user": "a@x", "frame": {...as received...}, "at": ...}
    {"t": "ws_closed", "socket": 3, "user": "a@x", "code": 1006, "error": "...", "at": ...}

`body` is the JSON body as sent, or `{"bytes": n}` for a raw one (bad input); a body that
carries a credential (token refresh) is recorded as `{}`. Tokens, passwords and tickets are
never written.
"""

import json
from pathlib import Path


class History:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("w", buffering=1 << 16)

    def record(self, line: dict) -> None:
        self._file.write(json.dumps(line, separators=(",", ":")) + "\n")

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "History":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read(path: Path):
    """The history's lines, parsed, in order."""
    with path.open() as file:
        for line in file:
            yield json.loads(line)
