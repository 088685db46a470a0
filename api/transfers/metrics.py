"""The settlement backlog as Prometheus gauges, read from PostgreSQL at scrape time, so they
are exact whichever processes run (README, "Operating it")."""

from collections.abc import Iterator

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.transfers.backlog import backlog_measure


class BacklogCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "vaultpay_metrics_database_up", "1 when the backlog could be read from PostgreSQL."
        )
        try:
            pending, oldest = backlog_measure()
        except DatabaseError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "vaultpay_transfers_pending", "Transfers waiting to settle (PENDING).", value=pending
        )
        age = 0.0 if oldest is None else (timezone.now() - oldest).total_seconds()
        yield GaugeMetricFamily(
            "vaultpay_transfers_pending_oldest_age_seconds",
            "How long the oldest PENDING transfer has waited (0 when none).",
            value=max(age, 0.0),
        )
