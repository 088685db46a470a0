from django.conf import settings
from django.db import models

from api.core import clock


class Account(models.Model):
    """A balance in paise: one wallet per user, plus the treasury (a system account).

    Only the treasury may go below zero; minus its balance is the money issued, so the sum of
    all balances is always zero. `last_seq` numbers the owner's realtime events and is only
    incremented while this row is locked.
    """

    class Kind(models.TextChoices):
        WALLET = "wallet"
        TREASURY = "treasury"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WALLET)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="account"
    )
    balance = models.BigIntegerField(default=0)
    last_seq = models.BigIntegerField(default=0)
    # Written by settlement with each balance change; nothing else saves an account.
    updated_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="treasury") | models.Q(balance__gte=0),
                name="account_wallet_balance_non_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="treasury", user__isnull=True)
                | models.Q(kind="wallet", user__isnull=False),
                name="account_wallet_has_user",
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(kind="treasury"), name="account_one_treasury"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"
