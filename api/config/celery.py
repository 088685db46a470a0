"""The Celery application. Tasks live in the `workers` package and call api services."""

import functools
import os

from celery import Celery, signals
from celery.worker.consumer import Consumer
from django.db import close_old_connections
from kombu.exceptions import OperationalError
from kombu.pools import ProducerPool

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api.config.settings.local")

app = Celery("vaultpay", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workers"])

# A publish from a request gives up after this long, without retrying (redis-py already
# replaces a pooled connection that went stale while Redis restarted).
REQUEST_PUBLISH_TIMEOUT_SECONDS = 0.25
# What a publish raises when the broker is down or frozen (kombu re-raises the transport's
# connection errors as its own OperationalError).
BROKER_UNAVAILABLE_ERRORS = (OperationalError,)


# A worker that lost the broker tries again every few seconds however long the outage lasts
# (kombu's default waits 2 s more before each attempt, up to 30 s), so settlement resumes
# within this plus the sweep's interval once Redis is back.
BROKER_RECONNECT_MAX_SECONDS = 2


class QuickReconnectConsumer(Consumer):
    """Celery's consumer, reconnecting to the broker at most BROKER_RECONNECT_MAX_SECONDS
    apart (settings: CELERY_WORKER_CONSUMER)."""

    def ensure_connected(self, conn):
        conn.ensure_connection = functools.partial(
            conn.ensure_connection,
            interval_start=1,
            interval_step=1,
            interval_max=BROKER_RECONNECT_MAX_SECONDS,
        )
        return super().ensure_connected(conn)


@signals.task_prerun.connect
@signals.task_postrun.connect
def _connections_recycle(**kwargs) -> None:
    # CELERY_DB_REUSE_MAX (settings) stops Celery closing the connection after every task;
    # this applies Django's own rules instead, as at each request: close it past
    # CONN_MAX_AGE or when it failed and is no longer usable.
    close_old_connections()


@functools.cache
def _request_producers() -> ProducerPool:
    """Producers on broker connections of their own with short socket timeouts: the app's
    own pool keeps the long ones that workers and beat need."""
    timeout = REQUEST_PUBLISH_TIMEOUT_SECONDS
    connection = app.connection_for_write(
        connect_timeout=timeout,
        transport_options={
            **app.conf.broker_transport_options,
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "max_retries": 0,  # else kombu sleeps 2 s and connects again
        },
    )
    return ProducerPool(
        connection.Pool(limit=app.conf.broker_pool_limit), Producer=app.amqp.Producer
    )


os.register_at_fork(after_in_child=_request_producers.cache_clear)


def send_task_from_request(name: str, *, args: list) -> None:
    """`app.send_task` bounded for a request path: raises one of BROKER_UNAVAILABLE_ERRORS
    within about 250 ms when the broker is down or frozen."""
    with _request_producers().acquire(block=True) as producer:
        app.send_task(name, args=args, producer=producer, retry=False)
