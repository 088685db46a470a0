"""Provisioning: N wallet users, funded by staff deposits over the API.

    python -m loadtests.provision --url http://127.0.0.1:8300 --users 1000 --out users.json

1. `manage.py loadtest_provision --balance 0.00` creates the users (with wallets, without
   money) and issues each an access and a refresh token. Registering them over the API would
   cost an Argon2 hash each and runs into the registration throttle: 10,000 users would take
   minutes of CPU that the load test would then not measure (README, "Provisioning").
2. `manage.py staff_create` makes a staff user, who logs in over the API.
3. Every wallet gets its money through `POST /api/wallet/deposits/`, the treasury -> user
   transfer of the real pipeline, with the idempotency key `fund-<prefix>-<n>`: sending the
   same deposits again changes nothing. A 429 or 503 is retried with the same key.
4. It waits until the last deposit is SUCCESS. Deposits all come from the treasury, one
   sender, and a sender's transfers settle in order, so then every deposit has settled.

The management commands run with `env` (default: this process's environment): its
DATABASE_URL and REDIS_URL must name the stack's database and Redis. Bounded: at most
MAX_USERS users, every request with a timeout, the wait with a deadline.
"""

import argparse
import asyncio
import json
import os
import secrets
import time
from pathlib import Path

from loadtests.data import Wallet
from loadtests.driver import Answer, Driver, Request, Retries, run
from loadtests.stack import manage

MAX_USERS = 20_000
DEPOSIT_PATH = "/api/wallet/deposits/"


async def provision(
    driver: Driver,
    *,
    users: int,
    out: Path,
    balance: str = "10000.00",
    hot_balance: str | None = None,
    sockets: int = 5,
    env: dict[str, str] | None = None,
    log=print,
) -> dict:
    """Creates, funds and waits; writes and returns the users document (data.Population).
    Roles: the first user is `hot`, the next two `a` and `b`, the last `sockets` users are
    the socket users, the rest the crowd. `hot_balance` funds `hot` differently (hot sender)."""
    if not 3 + sockets + 2 <= users <= MAX_USERS:
        raise ValueError(f"--users must be {5 + sockets} to {MAX_USERS:,}")
    prefix = f"lt-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(16)
    env = env or os.environ.copy()
    started = time.monotonic()

    created = out.with_suffix(".created.json")
    manage(
        "loadtest_provision", f"--users={users}", f"--prefix={prefix}", "--balance=0.00",
        f"--password={password}", f"--out={created}", env=env,
    )  # fmt: skip
    document = json.loads(created.read_text())
    created.unlink()
    emails = [u["email"] for u in document["users"]]
    log(f"  {users:,} users created by loadtest_provision in {time.monotonic() - started:.1f}s")

    staff_email = f"staff-{prefix}@loadtest.vaultpay.test"
    manage("staff_create", f"--email={staff_email}", f"--password={password}", env=env)
    login = await driver.fetch_json(
        Request(
            "login", "POST", "/api/users/login/",
            body={"email": staff_email, "password": password}, secret_body=True,
        )
    )  # fmt: skip
    staff = Wallet(staff_email, login["access"])

    amounts = {email: balance for email in emails}
    if hot_balance is not None:
        amounts[emails[0]] = hot_balance
    locations: list[str] = []

    def deposited(answer: Answer) -> str | None:
        if answer.status not in (200, 202):
            return answer.kind
        locations.append(answer.headers["Location"])
        return None

    deposits = [
        Request(
            "deposit", "POST", DEPOSIT_PATH, sender=staff, key=f"fund-{prefix}-{n:06d}",
            body={"email": email, "amount": amounts[email]}, check=deposited,
        )
        for n, email in enumerate(emails, 1)
        if amounts[email] not in ("0", "0.00")
    ]  # fmt: skip
    funding = time.monotonic()
    # Throttled or unavailable deposits are sent again with the same key.
    patient = Driver(
        driver.base_url, max_in_flight=8, retries=Retries(attempts=20), history=driver.history
    )
    async with patient:
        tally = await patient.closed_loop(deposits, clients=8)
        if tally.ok != len(deposits):
            raise RuntimeError(f"deposits: {tally.ok} of {len(deposits)}; {tally.error_text()}")
        accepted = time.monotonic()
        if locations:
            await wait_settled(patient, staff, locations)
    log(
        f"  {len(deposits):,} staff deposits accepted in {accepted - funding:.1f}s "
        f"({len(deposits) / max(accepted - funding, 1e-9):,.0f}/s), all settled "
        f"{time.monotonic() - accepted:.1f}s later"
    )

    document = {
        "prefix": prefix,
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


async def wait_settled(
    driver: Driver, staff: Wallet, locations: list[str], timeout: float = 300
) -> None:
    """Waits until every deposit left PENDING (the last ones checked first) and fails
    unless all are SUCCESS."""
    deadline = time.monotonic() + timeout
    for location in reversed(locations[-20:]):
        while True:
            status = (await driver.fetch_json(Request("deposit", "GET", location, staff)))["status"]
            if status == "SUCCESS":
                break
            if status != "PENDING":
                raise RuntimeError(f"a deposit ended {status}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"deposits not settled after {timeout:.0f}s: is a worker up?")
            await asyncio.sleep(0.2)


def provision_funded(stack, *, prefix: str, users: int, balance: str) -> dict:
    """The benchmarks' quick way: `manage.py loadtest_provision` creates and funds the users
    through settlement in the database, without the API; returns its document."""
    out = stack.run_dir / f"users-{prefix}.json"
    stack.manage(
        "loadtest_provision", f"--users={users}", f"--prefix={prefix}", f"--balance={balance}",
        f"--out={out}",
    )  # fmt: skip
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--url", required=True, help="the running stack, e.g. http://127.0.0.1:8300")
    add("--users", type=int, default=1000)
    add("--balance", default="10000.00", help="each wallet's deposit")
    add("--hot-balance", help="the hot user's deposit (default --balance)")
    add("--sockets", type=int, default=5, help="users for the socket users")
    add("--out", type=Path, required=True)
    options = parser.parse_args()

    async def go() -> None:
        async with Driver(options.url) as driver:
            await provision(
                driver,
                users=options.users,
                out=options.out,
                balance=options.balance,
                hot_balance=options.hot_balance,
                sockets=options.sockets,
            )

    run(go())
    print(f"users file: {options.out}")


if __name__ == "__main__":
    main()
