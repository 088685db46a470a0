"""Demo data for `make run`: users with valid Aadhaar numbers, each funded from the treasury
by the welcome credit and a staff deposit, a staff user, and payments between the users,
spread over the last DEMO_DAYS days so that the chart and the history have something to show.

Everything goes through the real services: registration (with its welcome credit), deposits
and payments accepted PENDING and settled by the settlement service, each under a demo clock
(`api.core.clock.clock_set`) set to its moment in the past; so users joined, transfers were
made and settled, and ledger entries and events were written on those days, and no row is
edited afterwards. Each deposit and payment is accepted and settled in one transaction: a
running worker or the sweep must never see it PENDING, or it would settle it now (and fail
it as expired). Names, amounts and times of day are deterministic (seeded), and users that
exist are skipped, so re-running is harmless."""

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from faker import Faker

from api.core.clock import clock_set
from api.transfers.models import Transfer
from api.transfers.services import deposit_accept, transfer_accept
from api.transfers.settlement import transfers_settle
from api.users import aadhaar
from api.users.models import User
from api.users.services import user_register, user_staff_create

DEMO_PASSWORD = "rupee-tiger-2026"  # noqa: S105 - published demo login, documented
DEMO_DOMAIN = "vaultpay.test"
STAFF_EMAIL = f"staff@{DEMO_DOMAIN}"
SEED = 2026
NOTES = ["chai", "lunch", "rent share", "cab", "movie tickets", "groceries", "", "birthday gift"]
# The demo's first day is this many days back (in DISPLAY_TIME_ZONE), today included, so a
# 30-day chart starts with the users joining.
DEMO_DAYS = 30
# Payments are made between these hours of the day, and settled this long after.
WAKING_HOURS = (8, 22)
SETTLE_DELAY = timedelta(seconds=2)
# The first demo user, listed first on the login page, takes part in this share of the
# payments, so their chart and history are busy on most days.
FEATURED_SHARE = 1 / 3


def demo_email(number: int) -> str:
    return f"demo{number:02d}@{DEMO_DOMAIN}"


def random_phone(rng: random.Random) -> str:
    return f"+91{rng.randint(6, 9)}{rng.randint(0, 10**9 - 1):09d}"


def payment_moments(rng: random.Random, *, count: int, after: datetime, before: datetime):
    """`count` moments in waking hours of the days from `after` to `before`, oldest first,
    each strictly between the two."""
    zone = ZoneInfo(settings.DISPLAY_TIME_ZONE)
    first_day = after.astimezone(zone).date()
    days = (before.astimezone(zone).date() - first_day).days + 1
    moments: list[datetime] = []
    while len(moments) < count:
        day = first_day + timedelta(days=rng.randrange(days))
        start = datetime.combine(day, time(WAKING_HOURS[0]), zone)
        moment = start + timedelta(
            seconds=rng.randrange((WAKING_HOURS[1] - WAKING_HOURS[0]) * 3600)
        )
        if after < moment < before:
            moments.append(moment)
    return sorted(moments)


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
        zone = ZoneInfo(settings.DISPLAY_TIME_ZONE)
        now = timezone.now()
        first_day = now.astimezone(zone).date() - timedelta(days=DEMO_DAYS - 1)
        # Everyone joins on the first morning, a minute apart.
        joined = datetime.combine(first_day, time(9), zone)
        people = [(demo_email(n), fake.name()) for n in range(1, users + 1)]
        people.append((STAFF_EMAIL, "VaultPay Staff"))
        created = 0
        for number, (email, full_name) in enumerate(people):
            if User.objects.filter(email=email).exists():
                continue
            with transaction.atomic(durable=True), clock_set(joined + timedelta(minutes=number)):
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
            funded = joined + timedelta(hours=1)
            self._money_movements(
                rng, user_count=users, transfers=transfers, funded=funded, until=now
            )
        self.stdout.write(self.style.SUCCESS(f"Demo data: {created} users created."))

    def _money_movements(
        self,
        rng: random.Random,
        *,
        user_count: int,
        transfers: int,
        funded: datetime,
        until: datetime,
    ) -> None:
        """A staff deposit for every demo user at `funded`, then `transfers` payments between
        them at moments up to `until`, each accepted and settled at its moment."""
        staff = User.objects.get(email=STAFF_EMAIL)
        emails = [demo_email(n) for n in range(1, user_count + 1)]
        for number, email in enumerate(emails):
            moment = funded + timedelta(minutes=number)
            with transaction.atomic(durable=True):
                with clock_set(moment):
                    deposit, _ = deposit_accept(
                        staff_user_id=staff.pk,
                        receiver_email=email,
                        amount=rng.randint(5, 50) * 100_00,
                        idempotency_key=f"seed-deposit-{email}",
                    )
                with clock_set(moment + SETTLE_DELAY):
                    transfers_settle(transfer_ids=[deposit.pk])
        senders = {u.email: u.pk for u in User.objects.filter(email__in=emails)}
        moments = payment_moments(
            rng, count=transfers, after=funded + timedelta(hours=1), before=until - SETTLE_DELAY
        )
        outcomes = {status: 0 for status in Transfer.Status.values}
        for number, moment in enumerate(moments):
            if rng.random() < FEATURED_SHARE:
                other = rng.choice(emails[1:])
                sender, receiver = rng.choice([(emails[0], other), (other, emails[0])])
            else:
                sender, receiver = rng.sample(emails, 2)
            with transaction.atomic(durable=True):
                with clock_set(moment):
                    payment, _ = transfer_accept(
                        sender_user_id=senders[sender],
                        receiver_email=receiver,
                        amount=rng.randint(10, 1000) * 100 + rng.choice([0, 50]),
                        note=rng.choice(NOTES),
                        idempotency_key=f"seed-payment-{number:04d}",
                    )
                with clock_set(moment + SETTLE_DELAY):
                    transfers_settle(transfer_ids=[payment.pk])
            payment.refresh_from_db(fields=["status"])
            outcomes[payment.status] += 1
        self.stdout.write(
            f"  settled {len(emails)} deposits and {transfers} payments over {DEMO_DAYS} days "
            f"({outcomes[Transfer.Status.SUCCESS]} succeeded, "
            f"{outcomes[Transfer.Status.FAILED]} failed for want of funds)"
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
