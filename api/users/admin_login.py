"""The admin's sign-in page, guarded like the API's login: attempts are counted per client
address (THROTTLE_ADMIN_LOGIN), and failures per submitted email share the API login's
per-account limit (THROTTLE_LOGIN_FAILURES), so the admin is no way around it. Refusals are
429 `throttled` in the error envelope with Retry-After, before the password is looked at."""

import functools
import math

from django.http import HttpRequest, JsonResponse

from api.core.errors import error_response
from api.core.throttling import ScopedCounterThrottle
from api.users.login_failures import login_failure_record, login_failures_wait


class _AdminLoginScope:
    """Stands for the admin's login view where DRF throttles look for a scope."""

    throttle_scope = "admin_login"


def _throttled(wait: float) -> JsonResponse:
    seconds = math.ceil(wait)
    response = error_response(
        "throttled", f"Too many sign-in attempts; try again in {seconds} seconds.", 429
    )
    response["Retry-After"] = str(seconds)
    return response


def admin_login_throttled(login_view):
    """`login_view` (the admin site's login) behind both limits. Only sign-in attempts (POSTs)
    count; the admin answers a failed one by showing the form again (200), a success with a
    redirect."""

    @functools.wraps(login_view)
    def view(request: HttpRequest, *args, **kwargs):
        if request.method != "POST":
            return login_view(request, *args, **kwargs)
        throttle = ScopedCounterThrottle()
        if not throttle.allow_request(request, _AdminLoginScope):
            return _throttled(throttle.wait())
        email = request.POST.get("username", "")
        wait = login_failures_wait(email=email)
        if wait is not None:
            return _throttled(wait)
        response = login_view(request, *args, **kwargs)
        if response.status_code == 200:
            login_failure_record(email=email)
        return response

    return view
