"""Read-only admin for transfers, ledger entries and events."""

from django.contrib import admin

from api.accounts.admin import account_label, rupees
from api.core.admin import ReadOnlyModelAdmin
from api.transfers.models import Event, LedgerEntry, Transfer


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    fields = readonly_fields = ["account", "signed_amount", "balance_after_rupees", "created_at"]
    extra = 0
    can_delete = False

    signed_amount = rupees("amount", "amount (₹)")
    balance_after_rupees = rupees("balance_after", "balance after (₹)")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Transfer)
class TransferAdmin(ReadOnlyModelAdmin):
    list_display = [
        "id",
        "uuid",
        "kind",
        "status",
        "failure_code",
        "sender_owner",
        "receiver_owner",
        "amount_rupees",
        "created_at",
        "settled_at",
    ]
    list_filter = ["status", "kind", "failure_code"]
    list_select_related = ["sender__user", "receiver__user"]
    search_fields = ["=uuid", "=idempotency_key", "sender__user__email", "receiver__user__email"]
    ordering = ["-id"]
    inlines = [LedgerEntryInline]

    amount_rupees = rupees("amount", "amount (₹)")

    @admin.display(description="sender")
    def sender_owner(self, transfer: Transfer) -> str:
        return account_label(transfer.sender)

    @admin.display(description="receiver")
    def receiver_owner(self, transfer: Transfer) -> str:
        return account_label(transfer.receiver)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyModelAdmin):
    list_display = [
        "id",
        "transfer",
        "account_owner",
        "signed_amount",
        "balance_after_rupees",
        "created_at",
    ]
    list_filter = ["account__kind"]
    list_select_related = ["transfer", "account__user"]
    search_fields = ["=transfer__uuid", "account__user__email"]
    ordering = ["-id"]

    signed_amount = rupees("amount", "amount (₹)")
    balance_after_rupees = rupees("balance_after", "balance after (₹)")

    @admin.display(description="account")
    def account_owner(self, entry: LedgerEntry) -> str:
        return account_label(entry.account)


@admin.register(Event)
class EventAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "user", "seq", "type", "created_at"]
    list_filter = ["type"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    ordering = ["-id"]
