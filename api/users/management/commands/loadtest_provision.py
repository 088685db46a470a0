import json
import os
import secrets
import time
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from api.core.exceptions import ApplicationError
from api.core.money import format_paise, parse_paise
from api.users.provisioning import (
    PREFIX_PATTERN,
    loadtest_prefix_taken,
    loadtest_users_create,
)

MAX_USERS = 100_000
BATCH_SIZE = 1_000


class Command(BaseCommand):
    help = (
        "Creates N load-test users (PREFIX-000001@loadtest.vaultpay.test, ...) with wallets "
        "funded from the treasury through settlement, and writes a JSON file with each "
        "user's email, a fresh access token and a refresh token (so a long run can refresh "
        "the access token). Load tests only; about 10,000 users a minute."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, required=True, help=f"1 to {MAX_USERS:,}")
        parser.add_argument(
            "--prefix",
            required=True,
            help="email prefix, new per run: lower-case letters, digits and '-', 1-32 long",
        )
        parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
        parser.add_argument(
            "--balance", default="1000.00", help="each wallet's starting balance (INR)"
        )
        parser.add_argument(
            "--password", help="shared by all these users (default: random, written to --out)"
        )

    def handle(self, *args, users: int, prefix: str, out: Path, balance: str, password, **opts):
        if not 1 <= users <= MAX_USERS:
            raise CommandError(f"--users must be 1 to {MAX_USERS:,}.")
        if not PREFIX_PATTERN.fullmatch(prefix):
            raise CommandError("--prefix: lower-case letters, digits and '-', 1-32 long.")
        paise = parse_paise(balance)
        if paise is None:
            raise CommandError("--balance must be an amount such as 1000.00.")
        if loadtest_prefix_taken(prefix=prefix):
            raise CommandError(f"Users with the prefix {prefix!r} exist already; pick another.")
        password = password or secrets.token_urlsafe(16)
        password_hash = make_password(password)  # once: Argon2 costs tens of milliseconds

        started = time.monotonic()
        wallets = []
        for first in range(1, users + 1, BATCH_SIZE):
            numbers = range(first, min(first + BATCH_SIZE, users + 1))
            try:
                with transaction.atomic(durable=True):
                    wallets += loadtest_users_create(
                        prefix=prefix, numbers=numbers, password_hash=password_hash, balance=paise
                    )
            except ApplicationError as exc:
                raise CommandError(f"{exc.code}: {exc.message}") from None

        lifetime = jwt_settings.ACCESS_TOKEN_LIFETIME
        with transaction.atomic(durable=True):  # one commit for the refresh tokens' rows
            tokens = [(w.user.email, RefreshToken.for_user(w.user)) for w in wallets]
        document = {
            "prefix": prefix,
            "password": password,
            "balance": format_paise(paise),
            "issued_at": int(time.time()),
            "access_lifetime_seconds": int(lifetime.total_seconds()),
            "users": [
                {"email": email, "access": str(refresh.access_token), "refresh": str(refresh)}
                for email, refresh in tokens
            ],
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        # Tokens and the password are credentials: readable by the owner only.
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(document, file)
        self.stdout.write(
            f"Provisioned {len(wallets):,} users '{prefix}-*' with {format_paise(paise)} each "
            f"in {time.monotonic() - started:.1f}s; tokens valid {lifetime} -> {out}"
        )
