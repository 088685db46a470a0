from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from api.users import aadhaar
from api.users.selectors import user_aadhaar_stale_count
from api.users.services import user_aadhaar_rotate_batch


class Command(BaseCommand):
    help = (
        "Re-encrypts every Aadhaar number that is not under the newest key of AADHAAR_KEYS or "
        "not yet bound to its user (values written before the binding), one short transaction "
        "per batch. Safe to re-run and to interrupt. Exits non-zero naming the users whose "
        "ciphertext failed authentication; those rows are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        newest = aadhaar.key_ring().newest_key_id
        stale = user_aadhaar_stale_count()
        self.stdout.write(f"{stale} Aadhaar numbers to re-encrypt under key {newest!r}.")
        rotated, unreadable, after_pk = 0, [], None
        while True:
            with transaction.atomic(durable=True):
                batch = user_aadhaar_rotate_batch(batch_size=batch_size, after_pk=after_pk)
            if batch.last_pk is None:
                break
            rotated += batch.rewritten
            unreadable += batch.unreadable
            after_pk = batch.last_pk
            self.stdout.write(f"  {rotated + len(unreadable)}/{stale}")
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted {rotated} Aadhaar numbers under key {newest!r}.")
        )
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} Aadhaar ciphertexts failed authentication (altered, or "
                "copied from another user's row) and were left as they are; users: "
                + ", ".join(str(pk) for pk in unreadable)
            )
