"""The base of every VaultPay admin page: money and identities change only through services,
never by hand, so the admin is for looking."""

import functools
import math

from django.contrib import admin

from api.core.errors import error_response
from api.core.throttling import ScopedCounterThrottle


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


class _AdminLoginScope:
    """Stands for the admin's login view where DRF throttles look for a scope."""

    throttle_scope = "admin_login"


def admin_login_throttled(login_view):
    """The admin's login view with sign-in attempts (POSTs) counted per client address at
    THROTTLE_ADMIN_LOGIN; past it, 429 `throttled` in the error envelope with Retry-After,
    and the credentials are not looked at."""

    @functools.wraps(login_view)
    def view(request, *args, **kwargs):
        if request.method == "POST":
            throttle = ScopedCounterThrottle()
            if not throttle.allow_request(request, _AdminLoginScope):
                wait = math.ceil(throttle.wait())
                response = error_response(
                    "throttled", f"Too many sign-in attempts; try again in {wait} seconds.", 429
                )
                response["Retry-After"] = str(wait)
                return response
        return login_view(request, *args, **kwargs)

    return view
