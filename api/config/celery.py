"""The Celery application. Tasks live in the `workers` package and call api services."""

import functools
import logging
import os

import structlog
from celery import Celery, bootsteps, signals
from celery.worker.consumer import Consumer
from django.db import close_old_connections
from kombu.exceptions import OperationalError
from kombu.pools import ProducerPool

from api.core.heartbeats import HEARTBEAT_SECONDS, worker_heartbeat
from api.core.redis import UNAVAILABLE_ERRORS
from api.core.request_id import request_id_set, request_id_stored

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api.config.settings.local")

app = Celery("vaultpay", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workers"])

logger = logging.getLogger(__name__)

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


@signals.setup_logging.connect
def _logging_from_settings(loglevel=None, **kwargs) -> None:
    # Connected, this stops Celery configuring logging its own way: worker and beat log
    # through Django's LOGGING (api/core/logs.py), applied here before Django's setup.
    # `--loglevel` (the Procfile's INFO) still sets Celery's own loggers, whatever LOG_LEVEL
    # says of the rest: its "ready." line is how scripts know a worker serves.
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    if loglevel:
        logging.getLogger("celery").setLevel(loglevel)


@signals.before_task_publish.connect
def _request_id_carried(headers: dict, **kwargs) -> None:
    # A task published while serving a request logs that request's id (api/core/logs.py).
    request_id = request_id_stored()
    if request_id is not None:
        headers.setdefault("request_id", request_id)


@signals.task_prerun.connect
def _task_log_context(task_id: str, task, **kwargs) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task=task.name, task_id=task_id)
    request_id_set(getattr(task.request, "request_id", None))


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Marks the worker alive in Redis every HEARTBEAT_SECONDS from its main process's timer
    (`/readyz?deep=1` and the `vaultpay_workers_alive` metric read it: api/core/heartbeats.py)."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs) -> None:
        super().__init__(worker, **kwargs)
        self.timer_entry = None

    def start(self, worker) -> None:
        self._beat(worker.hostname)
        self.timer_entry = worker.timer.call_repeatedly(
            HEARTBEAT_SECONDS, self._beat, (worker.hostname,)
        )

    def stop(self, worker) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()

    @staticmethod
    def _beat(hostname: str) -> None:
        try:
            worker_heartbeat(worker=hostname)
        except UNAVAILABLE_ERRORS as error:
            logger.warning("Worker heartbeat not written (%s)", type(error).__name__)


app.steps["worker"].add(WorkerHeartbeat)


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
