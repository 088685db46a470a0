"""The base of every VaultPay admin page: money and identities change only through services,
never by hand, so the admin is for looking."""

from django.contrib import admin


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Any active staff member may look (no per-model permissions to hand out); nobody adds,
    changes or deletes. Counting millions of rows on every changelist page is skipped."""

    show_full_result_count = False

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
