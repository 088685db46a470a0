from collections.abc import Iterable

from django.db.models import Sum

from api.accounts.models import Account
from api.transfers.models import Transfer
from api.transfers.payloads import BalancePayload, balance_payload


def pending_out_by_account(*, account_ids: Iterable[int]) -> dict[int, int]:
    """Total paise of each account's outgoing PENDING transfers; accounts without any are
    absent. One aggregate query (index `transfer_pending_by_sender`)."""
    rows = (
        Transfer.objects.filter(sender_id__in=list(account_ids), status=Transfer.Status.PENDING)
        .values("sender_id")
        .annotate(total=Sum("amount"))
        .values_list("sender_id", "total")
    )
    return dict(rows)


def account_balance_get(*, account: Account) -> BalancePayload:
    """The balance JSON of contract section 3 (GET /api/wallet/balance/)."""
    pending_out = pending_out_by_account(account_ids=[account.pk]).get(account.pk, 0)
    return balance_payload(account=account, pending_out=pending_out)
