"""Accounts in the admin, read-only, with helpers the transfer pages share."""

from django.contrib import admin

from api.accounts.models import Account
from api.core.admin import ReadOnlyModelAdmin
from api.core.money import format_paise


def rupees(field: str, description: str):
    """A changelist column showing the paise field `field` as rupees ("125.50")."""

    @admin.display(description=description, ordering=field)
    def column(model_admin, obj) -> str:
        return format_paise(getattr(obj, field))

    return column


def account_label(account: Account) -> str:
    return "VaultPay (treasury)" if account.user is None else account.user.email


@admin.register(Account)
class AccountAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "kind", "owner", "balance_rupees", "last_seq", "updated_at"]
    list_filter = ["kind"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    ordering = ["id"]

    balance_rupees = rupees("balance", "balance (₹)")

    @admin.display(description="owner", ordering="user__email")
    def owner(self, account: Account) -> str:
        return account_label(account)
