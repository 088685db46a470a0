"""The API against its own OpenAPI schema: Schemathesis on a live stack (docs/api.md).

    python -m loadtests.conformance [--database vaultpay_conformance] [--redis-db 7]
        [--port 0] [--seed N] [--max-examples N] [--results DIR]

1. Starts the stack the one way (loadtests/stack.py: the Procfile's processes) on a database
   and Redis database of its own, dropped and flushed first, throttles raised far out of
   reach (a 429 is documented, but one mid-run would make the run depend on timing).
2. Provisions the users that loadtests/schemathesis.toml names: `conformance-000001` pays
   (its bearer token authenticates every operation but deposits), `-000002` and `-000003` are
   payees (existing receivers), and a staff user makes the deposits.
3. Runs `schemathesis run` against /api/schema/ with that configuration: every phase
   (examples, coverage, fuzzing, and the stateful phase along the schema's links), every
   check, a fixed seed. Its exit status is this program's.
4. Waits for settlement to drain, then `ledger_audit`: whatever the run sent, money was
   neither made nor lost.

Bounded: the stack starts and stops within time limits, and the whole run within RUN_LIMIT.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

from loadtests.stack import ROOT, Stack, local_urls, time_limit

CONFIG = ROOT / "loadtests" / "schemathesis.toml"
RUN_LIMIT = 600  # seconds; the run takes about two minutes
# The throwaway users' password, as the configuration's dictionaries give it to logins.
PASSWORD = tomllib.loads(CONFIG.read_text())["dictionaries"]["password"]["values"][0]
STAFF_EMAIL = "staff@conformance.vaultpay.test"
# Every rate far above what the run sends: throttles must not decide its outcome.
THROTTLES = [
    "THROTTLE_ANON", "THROTTLE_USER", "THROTTLE_REGISTER", "THROTTLE_LOGIN",
    "THROTTLE_LOGIN_FAILURES", "THROTTLE_REVEAL", "THROTTLE_TRANSFER", "THROTTLE_TICKET",
    "THROTTLE_LOOKUP",
]  # fmt: skip


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="vaultpay_conformance")
    parser.add_argument("--redis-db", type=int, default=8)
    parser.add_argument("--port", type=int, default=0, help="REST port (default: a free one)")
    parser.add_argument("--seed", type=int, help="overrides the configuration's seed")
    parser.add_argument("--max-examples", type=int, help="overrides the configuration's")
    parser.add_argument("--results", type=Path, default=ROOT / ".run" / "conformance")
    return parser.parse_args(argv)


def _login(base_url: str, email: str) -> str:
    body = json.dumps({"email": email, "password": PASSWORD}).encode()
    request = urllib.request.Request(  # noqa: S310 - our own stack on 127.0.0.1
        f"{base_url}/api/users/login/", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)["access"]


def provision(stack: Stack, results: Path) -> dict[str, str]:
    """The users the configuration names; returns the environment it reads their tokens from."""
    users = results / "users.json"
    stack.manage(
        "loadtest_provision", "--users=3", "--prefix=conformance", "--balance=100000.00",
        f"--password={PASSWORD}", f"--out={users}",
    )  # fmt: skip
    payer = json.loads(users.read_text())["users"][0]
    users.unlink()  # tokens
    stack.manage("staff_create", f"--email={STAFF_EMAIL}", f"--password={PASSWORD}")
    return {
        "VAULTPAY_USER_TOKEN": payer["access"],
        "VAULTPAY_STAFF_TOKEN": _login(stack.base_url, STAFF_EMAIL),
    }


def schemathesis(stack: Stack, env: dict[str, str], options: argparse.Namespace, say) -> int:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file", str(CONFIG),
        "run", f"{stack.base_url}/api/schema/?format=json",
        "--report", "junit", "--report-dir", str(options.results),
    ]  # fmt: skip
    if options.seed is not None:
        command += ["--seed", str(options.seed)]
    if options.max_examples is not None:
        command += ["--max-examples", str(options.max_examples)]
    say("schemathesis " + " ".join(command[1:]))
    return subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, check=False).returncode  # noqa: S603


def main(argv=None) -> int:
    options = parse_args(argv)
    options.results.mkdir(parents=True, exist_ok=True)
    database_url, redis_url = local_urls(database=options.database, redis_db=options.redis_db)
    stack = Stack(
        database_url=database_url,
        redis_url=redis_url,
        run_dir=options.results / "run",
        settings=dict.fromkeys(THROTTLES, "100000/min"),
        web_processes=2,
        workers=1,
        worker_concurrency=1,
        port=options.port,
    )
    started = time.monotonic()

    def say(text: str) -> None:
        print(f"==> [{time.monotonic() - started:5.1f}s] {text}", flush=True)

    with time_limit(RUN_LIMIT), stack:
        say(f"Stack: {stack.describe()}")
        stack.reset()
        stack.start()
        say("Stack up; provisioning")
        env = provision(stack, options.results)
        status = schemathesis(stack, env, options, say)
        say("Waiting for settlement to drain, then ledger_audit")
        stack.ledger.wait_drained(timeout=60)
        audit = stack.manage("ledger_audit", check=False)
        print(audit.stdout + audit.stderr, end="", flush=True)
    return status or audit.returncode


if __name__ == "__main__":
    sys.exit(main())
