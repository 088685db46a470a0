from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from api.users.selectors import user_get_by_email
from api.users.services import user_deactivate


class Command(BaseCommand):
    help = (
        "Deactivates a user: login and refresh answer 401 from now on, every refresh token is "
        "blacklisted, and the user's pending transfers end FAILED."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)

    def handle(self, *args, email: str, **options):
        user = user_get_by_email(email=email)
        if user is None:
            raise CommandError(f"No user has the email {email}.")
        with transaction.atomic(durable=True):
            result = user_deactivate(user=user)
        self.stdout.write(
            self.style.SUCCESS(
                f"Deactivated {user.email}: {result.tokens_revoked} refresh tokens revoked, "
                f"{result.transfers_failed} pending transfers failed."
            )
        )
