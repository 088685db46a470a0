"""Bulk users for load tests (`manage.py loadtest_provision`).

Registering 10,000 users over HTTP would spend minutes in Argon2 and welcome credits, so load
tests get their users here instead: inserted in bulk with one shared password hash, a wallet
each, funded from the treasury through the real settlement service (deposits accepted with
`transfer_create_pending` and settled with `transfers_settle`), so the ledger stays balanced
and `ledger_audit` stays clean. Everything after that goes over HTTP.
"""

import re

from api.accounts.models import Account
from api.accounts.selectors import account_treasury_get
from api.accounts.services import account_create_wallets
from api.core.exceptions import ApplicationError
from api.transfers.idempotency import transfer_fingerprint
from api.transfers.models import Transfer
from api.transfers.services import transfer_create_pending
from api.transfers.settlement import transfers_settle
from api.users import aadhaar
from api.users.models import User

EMAIL_DOMAIN = "loadtest.vaultpay.test"
PREFIX_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


def loadtest_email(*, prefix: str, number: int) -> str:
    return f"{prefix}-{number:06d}@{EMAIL_DOMAIN}"


def loadtest_prefix_taken(*, prefix: str) -> bool:
    return User.objects.filter(
        email__startswith=f"{prefix}-", email__endswith=EMAIL_DOMAIN
    ).exists()


def _fresh_aadhaar_numbers(count: int) -> list[str]:
    """`count` random valid numbers whose blind indexes no user has yet, nor each other."""
    numbers: dict[str, str] = {}  # blind index -> number
    while len(numbers) < count:
        drafts = {}
        for _ in range(count - len(numbers)):
            number = aadhaar.generate()
            drafts[aadhaar.blind_index(number)] = number
        taken = set(
            User.objects.filter(aadhaar_index__in=list(drafts)).values_list(
                "aadhaar_index", flat=True
            )
        )
        numbers.update((index, n) for index, n in drafts.items() if index not in taken)
    return list(numbers.values())


def loadtest_users_create(
    *, prefix: str, numbers: range, password_hash: str, balance: int
) -> list[Account]:
    """Creates the users `prefix-NNNNNN@loadtest.vaultpay.test` for `numbers`, each with a
    wallet holding `balance` paise deposited from the treasury and settled, and returns the
    wallets (users attached) in order.

    Transaction: the caller's, one per call; keep `numbers` to about a thousand so each
    commit stays short. Locks: as `transfers_settle` (the treasury row and these wallets).
    Raises ApplicationError for a balance the deposit rules refuse (e.g. above
    MAX_DEPOSIT_AMOUNT); IntegrityError when one of the emails exists already.
    """
    users = [
        User(
            email=loadtest_email(prefix=prefix, number=n),
            full_name=f"Loadtest {prefix} {n}",
            password=password_hash,
        )
        for n in numbers
    ]
    for user, number in zip(users, _fresh_aadhaar_numbers(len(users)), strict=True):
        user.aadhaar_ciphertext, user.aadhaar_key_id = aadhaar.encrypt(number, user_id=user.pk)
        user.aadhaar_index = aadhaar.blind_index(number)
        user.aadhaar_last4 = number[-4:]
    User.objects.bulk_create(users)
    wallets = account_create_wallets(users=users)
    if balance:
        _deposits_settle(wallets=wallets, amount=balance)
        for wallet in wallets:
            wallet.balance = balance
    return wallets


def _deposits_settle(*, wallets: list[Account], amount: int) -> None:
    treasury = account_treasury_get()
    transfer_ids = []
    for wallet in wallets:
        transfer, _ = transfer_create_pending(
            sender=treasury,
            receiver=wallet,
            amount=amount,
            # A space never occurs in a client's key, so no staff deposit can collide.
            idempotency_key=f"loadtest {wallet.user.pk}",
            fingerprint=transfer_fingerprint(
                receiver_email=wallet.user.email, amount=amount, note=""
            ),
            kind=Transfer.Kind.DEPOSIT,
        )
        transfer_ids.append(transfer.pk)
    settled = transfers_settle(transfer_ids=transfer_ids)
    failed = [t for t in settled if t.status != Transfer.Status.SUCCESS]
    if len(settled) != len(transfer_ids) or failed:
        raise ApplicationError(
            "provisioning_failed",
            f"{len(failed)} of {len(transfer_ids)} funding deposits did not succeed.",
        )
