"""Provisioning: N wallet users, funded by staff deposits over the API.

    python -m loadtests.provision --url http://127.0.0.1:8300 --users 1000 --out users.json

1. `manage.py loadtest_provision --balance 0.00` creates the users (with wallets, without
   money) and issues each an access token. Registering them over the API would cost an Argon2
   hash each and runs into the registration throttle: 10,000 users would take minutes of CPU
   that the load test would then not measure (README, "Provisioning").
2. `manage.py staff_create` makes a staff user, who logs in over the API.
3. Every wallet gets its money through `POST /api/wallet/deposits/`, the treasury -> user
   transfer of the real pipeline, with the idempotency key `fund-<prefix>-<n>`: sending the
   same deposits again changes nothing. A 429 waits for its Retry-After and sends the same
   key again.
4. It waits until the last deposit is SUCCESS. Deposits all come from the treasury, one
   sender, and a sender's transfers settle in order, so then every deposit has settled.

The management commands run in this process's environment: DATABASE_URL and REDIS_URL must
name the stack's database and Redis (`make loadtest` sets them). Bounded: at most
MAX_USERS users, every request with a timeout, the wait with a deadline.
"""

import argparse
import json
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from loadtests.stack import manage

MAX_USERS = 20_000
DEPOSIT_PATH = "/api/wallet/deposits/"
TIMEOUT = 30


class Api:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=32))

    def post(self, path: str, payload: dict, headers: dict | None = None) -> requests.Response:
        """POSTs, waiting out 429s (the same request again is safe: idempotency keys)."""
        deadline = time.monotonic() + 120
        while True:
            response = self.session.post(
                self.url + path, json=payload, headers=headers or {}, timeout=TIMEOUT
            )
            if response.status_code != 429 or time.monotonic() > deadline:
                return response
            time.sleep(float(response.headers.get("Retry-After", "1")))

    def login(self, email: str, password: str) -> str:
        response = self.post("/api/users/login/", {"email": email, "password": password})
        if response.status_code != 200:
            raise RuntimeError(f"login of {email}: {response.status_code} {response.text[:200]}")
        return response.json()["access"]


def provision(
    *,
    url: str,
    users: int,
    out: Path,
    balance: str = "10000.00",
    hot_balance: str | None = None,
    sockets: int = 5,
    prefix: str | None = None,
    env: dict[str, str] | None = None,
    log=print,
) -> dict:
    """Creates, funds and waits; writes and returns the users document (data.Population).
    Roles: the first user is `hot`, the next two `a` and `b`, the last `sockets` users are
    the socket users, the rest the crowd. `hot_balance` funds `hot` differently (hot sender)."""
    if not 3 + sockets + 2 <= users <= MAX_USERS:
        raise ValueError(f"--users must be {5 + sockets} to {MAX_USERS:,}")
    prefix = prefix or f"lt-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(16)
    api = Api(url)
    started = time.monotonic()

    created = out.with_suffix(".created.json")
    env = env or os.environ.copy()
    manage(
        "loadtest_provision",
        f"--users={users}",
        f"--prefix={prefix}",
        "--balance=0.00",
        f"--password={password}",
        f"--out={created}",
        env=env,
    )
    document = json.loads(created.read_text())
    created.unlink()
    emails = [u["email"] for u in document["users"]]
    log(f"  {users:,} users created by loadtest_provision in {time.monotonic() - started:.1f}s")

    staff_email = f"staff-{prefix}@loadtest.vaultpay.test"
    manage("staff_create", f"--email={staff_email}", f"--password={password}", env=env)
    staff = {"Authorization": f"Bearer {api.login(staff_email, password)}"}

    amounts = {email: balance for email in emails}
    if hot_balance is not None:
        amounts[emails[0]] = hot_balance
    funding = time.monotonic()

    def deposit(numbered: tuple[int, str]) -> str:
        number, email = numbered
        key = f"fund-{prefix}-{number:06d}"
        response = api.post(
            DEPOSIT_PATH,
            {"email": email, "amount": amounts[email]},
            {**staff, "Idempotency-Key": key},
        )
        if response.status_code not in (200, 202):
            raise RuntimeError(f"deposit to {email}: {response.status_code} {response.text[:200]}")
        return response.headers["Location"]

    funded = [(n, e) for n, e in enumerate(emails, 1) if amounts[e] not in ("0", "0.00")]
    with ThreadPoolExecutor(8) as pool:
        locations = list(pool.map(deposit, funded))
    accepted = time.monotonic()
    if locations:
        wait_settled(api, locations[-1], staff)
    log(
        f"  {len(funded):,} staff deposits accepted in {accepted - funding:.1f}s "
        f"({len(funded) / max(accepted - funding, 1e-9):,.0f}/s), all settled "
        f"{time.monotonic() - accepted:.1f}s later"
    )

    document = {
        "prefix": prefix,
        "run_id": prefix,
        "password": password,
        "balance": balance,
        "hot_balance": amounts[emails[0]],
        "issued_at": document["issued_at"],
        "access_lifetime_seconds": document["access_lifetime_seconds"],
        "users": document["users"],
        "roles": {
            "hot": emails[0],
            "a": emails[1],
            "b": emails[2],
            "sockets": emails[len(emails) - sockets :] if sockets else [],
            "crowd": emails[3 : len(emails) - sockets],
        },
    }
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # tokens inside
    with os.fdopen(descriptor, "w") as file:
        json.dump(document, file)
    return document


def wait_settled(api: Api, location: str, staff: dict, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = api.session.get(api.url + location, headers=staff, timeout=TIMEOUT)
        if response.status_code == 200 and response.json()["status"] != "PENDING":
            if response.json()["status"] != "SUCCESS":
                raise RuntimeError(f"the last deposit ended {response.json()['status']}")
            return
        time.sleep(0.2)
    raise TimeoutError(f"deposits not settled after {timeout:.0f}s: is a Celery worker running?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", required=True, help="the running stack, e.g. http://127.0.0.1:8300"
    )
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--balance", default="10000.00", help="each wallet's deposit")
    parser.add_argument("--hot-balance", help="the hot user's deposit (default --balance)")
    parser.add_argument("--sockets", type=int, default=5, help="users for the socket user")
    parser.add_argument("--out", type=Path, required=True)
    options = parser.parse_args()
    provision(
        url=options.url,
        users=options.users,
        out=options.out,
        balance=options.balance,
        hot_balance=options.hot_balance,
        sockets=options.sockets,
    )
    print(f"users file: {options.out} (set LOADTEST_USERS to it)")


if __name__ == "__main__":
    main()
