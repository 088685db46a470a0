"""Admin: users are read-only apart from deactivation (through the service, so tokens and
pending transfers follow), and the Aadhaar number shows masked only; it is never decrypted
here. Reveal audits are read-only."""

from django.contrib import admin, messages
from django.db import transaction

from api.core.admin import ReadOnlyModelAdmin
from api.users.models import AadhaarRevealAudit, User
from api.users.services import user_deactivate


@admin.register(User)
class UserAdmin(ReadOnlyModelAdmin):
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    ordering = ["-date_joined"]
    # Listed explicitly so that the password hash, ciphertext, key id and blind index never show.
    fields = readonly_fields = [
        "id",
        "email",
        "full_name",
        "phone",
        "aadhaar_masked",
        "is_active",
        "is_staff",
        "is_superuser",
        "date_joined",
        "last_login",
    ]
    actions = ["deactivate"]

    @admin.action(description="Deactivate the selected users", permissions=["change"])
    def deactivate(self, request, queryset):
        users = list(queryset)
        for user in users:
            with transaction.atomic(durable=True):
                user_deactivate(user=user)
        self.message_user(request, f"Deactivated {len(users)} users.", messages.SUCCESS)

    def has_change_permission(self, request, obj=None):
        # Only the deactivate action needs it; every field stays read-only.
        return request.user.is_active and request.user.is_superuser


@admin.register(AadhaarRevealAudit)
class AadhaarRevealAuditAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "user", "succeeded", "ip_address", "request_id"]
    list_filter = ["succeeded"]
    search_fields = ["user__email", "request_id"]
    list_select_related = ["user"]
