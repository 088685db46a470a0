"""Django's PostgreSQL backend, with the connection health check made cheap under load.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first query of every request on
a persistent connection: a whole round trip, about a fifth of a one-statement request such
as accepting a transfer. A connection that served a request moments ago is almost surely
still usable, so the check is skipped for one used within the last `RECENTLY_USED_SECONDS`;
an idle connection (the case health checks exist for: a database restarted or a connection
dropped while nobody used it) is still checked. A connection that failed is never trusted
this way: Django checks it (and closes it when broken) at the end of the request or task
that saw the error, before this skip can apply.
"""

import time

from django.db.backends.postgresql import base

RECENTLY_USED_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    _used_at = float("-inf")

    def close_if_health_check_failed(self) -> None:
        now = time.monotonic()
        if self.connection is not None and now - self._used_at < RECENTLY_USED_SECONDS:
            self.health_check_done = True
        super().close_if_health_check_failed()
        self._used_at = now
