import getpass
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from api.config import env
from api.core.exceptions import ApplicationError
from api.users import aadhaar
from api.users.selectors import user_get_by_email
from api.users.services import user_staff_create, user_staff_grant


class Command(BaseCommand):
    help = (
        "Creates a staff user (with a wallet, without the welcome credit), or makes an "
        "existing user staff. The password comes from --password, else the STAFF_PASSWORD "
        "environment variable, else a prompt."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--full-name", default="VaultPay Staff")
        parser.add_argument("--password")
        parser.add_argument(
            "--aadhaar", dest="aadhaar_number", help="default: a random valid number"
        )

    def handle(self, *args, email: str, full_name: str, password, aadhaar_number, **options):
        existing = user_get_by_email(email=email)
        if existing is not None:
            with transaction.atomic(durable=True):
                user_staff_grant(user=existing)
            self.stdout.write(f"{existing.email} is staff now (password unchanged).")
            return
        try:
            with transaction.atomic(durable=True):
                user = user_staff_create(
                    email=email,
                    full_name=full_name,
                    password=self._password(password),
                    aadhaar=aadhaar_number or aadhaar.generate(),
                )
        except ApplicationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
            raise CommandError(problems or exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"Created the staff user {user.email}."))

    def _password(self, given: str | None) -> str:
        password = given or env.get("STAFF_PASSWORD")
        if password:
            return password
        if not sys.stdin.isatty():
            raise CommandError("Give --password or STAFF_PASSWORD; there is no terminal to ask.")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The passwords differ.")
        return password
