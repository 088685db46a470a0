import uuid

from django.conf import settings
from django.db import models

from api.accounts.models import Account
from api.core import clock


class Transfer(models.Model):
    """One movement of money between two accounts.

    `id` is the acceptance order (a database sequence) and stays internal; clients see `uuid`.
    A transfer is created PENDING and leaves PENDING exactly once, to SUCCESS (with two ledger
    entries) or FAILED (with a failure code and no entries).
    """

    class Status(models.TextChoices):
        PENDING = "PENDING"
        SUCCESS = "SUCCESS"
        FAILED = "FAILED"

    class FailureCode(models.TextChoices):
        INSUFFICIENT_FUNDS = "insufficient_funds"
        RECEIVER_INACTIVE = "receiver_inactive"
        SENDER_INACTIVE = "sender_inactive"
        EXPIRED = "expired"

    class Kind(models.TextChoices):
        PAYMENT = "payment"
        WELCOME = "welcome"
        DEPOSIT = "deposit"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PAYMENT)
    sender = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="transfers_out")
    receiver = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="transfers_in")
    amount = models.BigIntegerField(help_text="paise")
    note = models.CharField(max_length=140, blank=True, default="")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    failure_code = models.CharField(max_length=32, choices=FailureCode.choices, null=True)
    idempotency_key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    # Settlement partition of the sender (see partitions.py): one settler at a time drains a
    # partition in id order, which keeps each sender's transfers first-in, first-out.
    partition = models.SmallIntegerField()
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)
    settled_at = models.DateTimeField(null=True)
    # The X-Request-ID of the request that stored it (none for welcome credits and commands),
    # so that the settler's log lines lead back to the client's request.
    request_id = models.CharField(max_length=64, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "idempotency_key"], name="transfer_sender_idempotency_key"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="transfer_amount_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(sender=models.F("receiver")), name="transfer_not_to_self"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status="PENDING", failure_code__isnull=True, settled_at__isnull=True
                )
                | models.Q(status="SUCCESS", failure_code__isnull=True, settled_at__isnull=False)
                | models.Q(status="FAILED", failure_code__isnull=False, settled_at__isnull=False),
                name="transfer_status_consistent",
            ),
        ]
        indexes = [
            # A settler drains its partition's PENDING transfers in id order.
            models.Index(
                fields=["partition", "id"],
                condition=models.Q(status="PENDING"),
                name="transfer_pending",
            ),
            # pending_out of every balance JSON sums a sender's PENDING transfers.
            models.Index(
                fields=["sender"],
                condition=models.Q(status="PENDING"),
                name="transfer_pending_by_sender",
            ),
            models.Index(fields=["sender", "-created_at", "-id"], name="transfer_sender_recent"),
            models.Index(
                fields=["receiver", "-created_at", "-id"], name="transfer_receiver_recent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.uuid} {self.status}"


IMMUTABLE_ENTRIES = "Ledger entries are immutable."


class LedgerEntryQuerySet(models.QuerySet):
    """Entries are only ever inserted: bulk updates and deletes are refused like single ones
    (on PostgreSQL a trigger refuses them too)."""

    def update(self, **kwargs):
        raise ValueError(IMMUTABLE_ENTRIES)

    def delete(self):
        raise ValueError(IMMUTABLE_ENTRIES)


class LedgerEntry(models.Model):
    """One side of a settled transfer. Entries are written once and never changed."""

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField(help_text="signed paise: negative for the sender")
    balance_after = models.BigIntegerField()
    created_at = models.DateTimeField(default=clock.now, editable=False)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["transfer", "account"], name="entry_one_per_side"),
            models.CheckConstraint(condition=~models.Q(amount=0), name="entry_amount_non_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount:+d}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError(IMMUTABLE_ENTRIES)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(IMMUTABLE_ENTRIES)


class Event(models.Model):
    """A realtime event for one user, stored in the transaction that caused it.

    `seq` counts the user's events 1, 2, 3, ... without gaps (taken from Account.last_seq
    under the account's row lock).
    """

    class Type(models.TextChoices):
        TRANSFER_UPDATED = "transfer.updated"
        BALANCE_UPDATED = "balance.updated"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    seq = models.BigIntegerField()
    type = models.CharField(max_length=32, choices=Type.choices)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "seq"], name="event_user_seq")]

    def __str__(self) -> str:
        return f"{self.type} #{self.seq}"
