"""Watch one user's realtime events in the terminal.

Logs in over REST, asks for a WebSocket ticket, opens the socket the ticket names and prints
every message. When the socket drops, it gets a new ticket and resumes after the last seq it
printed, so nothing is missed or printed twice.

    .venv/bin/python -m loadtests.ws_watch --email demo01@vaultpay.test
    .venv/bin/python -m loadtests.ws_watch --url http://127.0.0.1:8150 \
        --email demo02@vaultpay.test --json

The password defaults to the demo users' one (`make run` prints it); --password or
VAULTPAY_PASSWORD sets another.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

DEMO_PASSWORD = "rupee-tiger-2026"  # noqa: S105 - the documented demo data password
# Close codes after which reconnecting with the same after_seq cannot help.
START_OVER = {4410}
GIVE_UP = {4400, 4401}


def post(base: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - the URL the user gave
        base.rstrip("/") + path,
        method="POST",
        data=json.dumps(body or {}).encode(),
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise SystemExit(f"POST {path}: {error.code} {error.read().decode()[:300]}") from None


def describe(message: dict) -> str:
    kind, seq = message["type"], message.get("seq")
    if kind == "transfer.updated":
        t = message["transfer"]
        line = (
            f"{t['status']:<7} {t['amount']:>10} {t['currency']}  "
            f"{t['sender']['full_name']} -> {t['receiver']['full_name']}"
        )
        if t["failure_code"]:
            line += f"  ({t['failure_code']})"
        if t["note"]:
            line += f"  {t['note']!r}"
        return f"[seq {seq}] transfer.updated  {line}"
    if kind == "balance.updated":
        b = message["balance"]
        return (
            f"[seq {seq}] balance.updated   balance {b['balance']} {b['currency']}, "
            f"pending out {b['pending_out']}, available {b['available']}"
        )
    return f"[{kind}] latest seq {seq}"


def watch(options: argparse.Namespace) -> int:
    last_seq = options.after_seq
    while True:
        # Access tokens live 15 minutes: log in again for every connection.
        login = post(
            options.url, "/api/users/login/", {"email": options.email, "password": options.password}
        )
        ticket = post(options.url, "/api/realtime/ticket/", token=login["access"])
        url = f"{ticket['url']}?ticket={ticket['ticket']}"
        if last_seq is not None:
            url += f"&after_seq={last_seq}"
        try:
            with connect(url, open_timeout=10) as socket:
                resume = "" if last_seq is None else f", resuming after seq {last_seq}"
                print(f"{login['user']['email']}: connected to {ticket['url']}{resume}", flush=True)
                for raw in socket:
                    message = json.loads(raw)
                    print(raw if options.json else describe(message), flush=True)
                    # Resume after the last event printed; a first hello starts the count.
                    first_hello = message["type"] == "hello" and last_seq is None
                    if first_hello or message["type"] in ("transfer.updated", "balance.updated"):
                        last_seq = message["seq"]
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            if code in GIVE_UP:
                print(f"Socket closed {code}; giving up", flush=True)
                return 1
            print(f"Socket closed ({code}); reconnecting", flush=True)
            if code in START_OVER:
                last_seq = None  # too far behind: reload over REST, then go on from the latest
        except OSError as error:
            print(f"Cannot connect: {error}; retrying", flush=True)
        time.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", default="http://127.0.0.1:8000", help="the REST API (make run's PORT)"
    )
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", default=os.environ.get("VAULTPAY_PASSWORD", DEMO_PASSWORD))
    parser.add_argument(
        "--after-seq", type=int, default=None, help="replay the events after this seq first"
    )
    parser.add_argument("--json", action="store_true", help="print the raw messages")
    options = parser.parse_args()
    try:
        return watch(options)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
