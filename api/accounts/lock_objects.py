"""Row locks on accounts.

Every account lock is taken here, always in primary-key order, so two transactions that need
overlapping accounts queue one behind the other instead of deadlocking (A->B and B->A both
lock min(A, B) first).

The lock is FOR NO KEY UPDATE: it excludes every other settlement exactly like FOR UPDATE, but
not the FOR KEY SHARE that PostgreSQL's foreign-key checks take on an account when a transfer
or entry referring to it is inserted. Those checks lock sender and receiver in constraint
order, not pk order; with FOR UPDATE an accept of B->A could hold one account while a
settlement of A->B holds the other, and deadlock.
"""

from collections.abc import Iterable

from api.accounts.models import Account


def accounts_lock(*, account_ids: Iterable[int]) -> dict[int, Account]:
    """Locks the accounts with `SELECT ... FOR NO KEY UPDATE` in primary-key order and returns them,
    freshly read and with their users (None for the treasury), by id.

    Must run inside a transaction: the locks last until it ends. Take every account lock a
    transaction needs in one call; a second call could lock a lower pk after a higher one.
    Raises Account.DoesNotExist when an id is unknown.
    """
    wanted = set(account_ids)
    accounts = {
        account.pk: account
        for account in Account.objects.select_related("user")
        .filter(pk__in=wanted)
        .order_by("pk")
        .select_for_update(of=("self",), no_key=True)
    }
    if len(accounts) != len(wanted):
        raise Account.DoesNotExist(f"Unknown accounts: {sorted(wanted - set(accounts))}")
    return accounts
