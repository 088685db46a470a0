"""The Celery application. Tasks live in the `workers` package and call api services."""

import os

from celery import Celery, signals
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api.config.settings.local")

app = Celery("vaultpay", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workers"])


@signals.task_prerun.connect
@signals.task_postrun.connect
def _connections_recycle(**kwargs) -> None:
    # CELERY_DB_REUSE_MAX (settings) stops Celery closing the connection after every task;
    # this applies Django's own rules instead, as at each request: close it past
    # CONN_MAX_AGE or when it failed and is no longer usable.
    close_old_connections()
