"""Demo data for `make run`: users with valid Aadhaar numbers, each funded from the treasury
by the welcome credit and a staff deposit, a staff user, and payments between the users.

Deposits and payments go through the real pipeline: they are accepted PENDING here and a
Celery worker settles them (at once, or as soon as `make run` starts one). Names and amounts
are deterministic (seeded), and users that exist are skipped, so re-running is harmless."""

import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from faker import Faker

from api.transfers.services import deposit_accept, transfer_accept
from api.users import aadhaar
from api.users.models import User
from api.users.services import user_register, user_staff_create

DEMO_PASSWORD = "rupee-tiger-2026"  # noqa: S105 - published demo login, documented
DEMO_DOMAIN = "vaultpay.test"
STAFF_EMAIL = f"staff@{DEMO_DOMAIN}"
SEED = 2026
NOTES = ["chai", "lunch", "rent share", "cab", "movie tickets", "groceries", "", "birthday gift"]


def demo_email(number: int) -> str:
    return f"demo{number:02d}@{DEMO_DOMAIN}"


def random_phone(rng: random.Random) -> str:
    return f"+91{rng.randint(6, 9)}{rng.randint(0, 10**9 - 1):09d}"


class Command(BaseCommand):
    help = "Create demo users (and a staff user) with the demo password; prints the logins."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=20, help="how many demo users")
        parser.add_argument(
            "--transfers", type=int, default=100, help="how many payments between them"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing unless the database has no users"
        )
        parser.add_argument(
            "--print-logins", action="store_true", help="only print the demo logins"
        )

    def handle(
        self, *args, users: int, transfers: int, if_empty: bool, print_logins: bool, **options
    ):
        if not settings.SEED_DEMO_ALLOWED:
            raise CommandError(
                "seed_demo creates users with a published password and is refused under "
                "production settings; set DEMO_DATA=1 to load demo data anyway."
            )
        if print_logins:
            self.stdout.write(self._logins())
            return
        if if_empty and User.objects.exists():
            self.stdout.write("The database already has users; demo data not loaded again.")
            return

        fake = Faker("en_IN")
        fake.seed_instance(SEED)
        rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not secrets
        people = [(demo_email(n), fake.name()) for n in range(1, users + 1)]
        people.append((STAFF_EMAIL, "VaultPay Staff"))
        created = 0
        for email, full_name in people:
            if User.objects.filter(email=email).exists():
                continue
            with transaction.atomic(durable=True):
                if email == STAFF_EMAIL:
                    user_staff_create(
                        email=email,
                        password=DEMO_PASSWORD,
                        full_name=full_name,
                        aadhaar=aadhaar.generate(),
                    )
                else:
                    user_register(
                        email=email,
                        password=DEMO_PASSWORD,
                        full_name=full_name,
                        phone=random_phone(rng),
                        aadhaar=aadhaar.generate(),
                    )
            created += 1
            self.stdout.write(f"  created {email} ({full_name})")
        if created:
            self._money_movements(rng, user_count=users, transfers=transfers)
        self.stdout.write(self.style.SUCCESS(f"Demo data: {created} users created."))

    def _money_movements(self, rng: random.Random, *, user_count: int, transfers: int) -> None:
        """Accepts a deposit for every demo user and `transfers` payments between them; the
        worker settles them in acceptance order."""
        staff = User.objects.get(email=STAFF_EMAIL)
        emails = [demo_email(n) for n in range(1, user_count + 1)]
        for email in emails:
            deposit_accept(
                staff_user_id=staff.pk,
                receiver_email=email,
                amount=rng.randint(5, 50) * 100_00,
                idempotency_key=f"seed-deposit-{email}",
            )
        senders = {u.email: u.pk for u in User.objects.filter(email__in=emails)}
        for number in range(transfers):
            sender, receiver = rng.sample(emails, 2)
            transfer_accept(
                sender_user_id=senders[sender],
                receiver_email=receiver,
                amount=rng.randint(10, 1000) * 100 + rng.choice([0, 50]),
                note=rng.choice(NOTES),
                idempotency_key=f"seed-payment-{number:04d}",
            )
        self.stdout.write(
            f"  accepted {len(emails)} deposits and {transfers} payments (a worker settles them)"
        )

    def _logins(self) -> str:
        if not User.objects.filter(email=demo_email(1)).exists():
            return "    No demo users in this database: register one (see README)."
        last = User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").exclude(email=STAFF_EMAIL)
        return (
            f"    Demo logins: {demo_email(1)} ... {demo_email(last.count())}"
            f" and staff {STAFF_EMAIL}\n"
            f"    Demo password (all of them): {DEMO_PASSWORD}"
        )
