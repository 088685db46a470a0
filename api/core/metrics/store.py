"""The metrics of all processes on all hosts, added up in Redis.

prometheus-client's own multiprocess mode shares files between the processes of one host;
VaultPay's workers and socket servers run on other hosts than the web process that answers
/metrics, so each process instead keeps its metrics in memory (catalogue.PROCESS) and a
daemon thread adds them to Redis once a second:

- counters and histograms: the increase since the last flush, with HINCRBYFLOAT into one
  hash of running totals, in a MULTI/EXEC transaction. A flush Redis refused is retried with
  the next one (nothing is lost while the process lives); a process that exits loses at most
  its last second. Totals survive processes coming and going, as counters must;
- gauges: the process's current value, in a hash keyed by process, with the process's last
  flush time in a sorted set; a process silent for PROCESS_TTL_SECONDS no longer counts.

`mark` writes a value that one process knows (the sweep's and the audit's last run) straight
to Redis. `SharedMetricsCollector` reads it all back, in one round trip, for the scrape.
Redis without persistence loses the totals when it restarts; Prometheus reads that as a
counter reset, which rate() and increase() handle.
"""

import atexit
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator

import redis
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.core import heartbeats
from api.core.metrics.catalogue import MARKS, PROCESS
from api.core.redis import redis_client

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
PROCESS_TTL_SECONDS = 15.0
KEY_TOTALS = "vaultpay:metrics:totals"
KEY_GAUGES = "vaultpay:metrics:gauges"
KEY_PROCESSES = "vaultpay:metrics:processes"
KEY_MARKS = "vaultpay:metrics:marks"


def _field(family: str, sample: str, labels: dict[str, str]) -> str:
    return json.dumps([family, sample, labels], sort_keys=True, separators=(",", ":"))


def _local_samples() -> tuple[dict[str, float], dict[str, float]]:
    """This process's (totals, gauges), keyed by store field."""
    totals: dict[str, float] = {}
    gauges: dict[str, float] = {}
    for family in PROCESS.collect():
        into = gauges if family.type == "gauge" else totals
        for sample in family.samples:
            if not sample.name.endswith("_created"):
                into[_field(family.name, sample.name, sample.labels)] = sample.value
    return totals, gauges


class _Flusher:
    def __init__(self) -> None:
        self.process_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._flushed: dict[str, float] = {}  # totals as last added to Redis
        self._gauges_written = False
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="metrics-flush", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(FLUSH_SECONDS):
            try:
                self.flush()
            except Exception:  # the thread must outlive any surprise; the next flush retries
                logger.exception("Metrics flush failed")

    def flush(self) -> None:
        """Adds what changed since the last flush to Redis; never raises."""
        with self._lock:
            totals, gauges = _local_samples()
            increases = {
                field: value - self._flushed.get(field, 0.0)
                for field, value in totals.items()
                if value != self._flushed.get(field, 0.0)
            }
            # A process that never set a gauge (most) writes none, and no liveness either.
            write_gauges = self._gauges_written or any(gauges.values())
            if not increases and not write_gauges:
                return
            pipeline = redis_client().pipeline(transaction=True)
            for field, increase in increases.items():
                pipeline.hincrbyfloat(KEY_TOTALS, field, increase)
            if write_gauges:
                mine = {f"{self.process_id}|{field}": value for field, value in gauges.items()}
                pipeline.hset(KEY_GAUGES, mapping=mine)
                pipeline.zadd(KEY_PROCESSES, {self.process_id: time.time()})
            try:
                pipeline.execute()
            except redis.RedisError as error:
                logger.warning("Metrics not flushed to Redis (%s); retried", type(error).__name__)
                return
            self._flushed = totals
            self._gauges_written = write_gauges


_flusher = _Flusher()


def flushing_start() -> None:
    """Starts this process's flusher (AppConfig.ready, and again in a forked child)."""
    _flusher.start()


def flush_now() -> None:
    """Flushes at once (tests; process exit)."""
    _flusher.flush()


def _after_fork() -> None:
    # A forked child (a Celery pool process) has none of its parent's threads. What it
    # inherited in memory is the parent's to flush: the child adds only what it records.
    global _flusher
    started = _flusher._thread is not None
    _flusher = _Flusher()
    _flusher._flushed = _local_samples()[0]
    if started:
        _flusher.start()


def _before_fork() -> None:
    # No flush in progress while the process forks: a child must not inherit a lock that the
    # flusher thread (absent from the child) holds.
    _flusher._lock.acquire()


def _after_fork_in_parent() -> None:
    _flusher._lock.release()


os.register_at_fork(
    before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork
)
atexit.register(flush_now)


def mark(name: str, value: float) -> None:
    """Records a value of MARKS in Redis now (beat's tasks). Never raises; logs a failure."""
    assert name in MARKS, name
    try:
        redis_client().hset(KEY_MARKS, name, value)
    except redis.RedisError as error:
        logger.warning("Metric %s not recorded (%s)", name, type(error).__name__)


class SharedMetricsCollector(Collector):
    """Every metric of the catalogue as Redis holds it for all processes, MARKS, the live
    workers, and `vaultpay_metrics_redis_up` (0 when Redis could not be read: the rest is
    then missing)."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "vaultpay_metrics_redis_up", "1 when the shared metrics could be read from Redis."
        )
        try:
            totals, gauges, marks, workers = self._read()
        except redis.RedisError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        stored: dict[str, dict[tuple, float]] = defaultdict(lambda: defaultdict(float))
        for field, value in [*totals, *gauges]:
            family, sample, labels = json.loads(field)
            stored[family][(sample, tuple(sorted(labels.items())))] += value
        for local in PROCESS.collect():
            yield _family(local, stored.get(local.name, {}))
        for name, documentation in MARKS.items():
            if name in marks:
                yield GaugeMetricFamily(name, documentation, value=marks[name])
        yield GaugeMetricFamily(
            "vaultpay_workers_alive",
            f"Celery workers that marked themselves alive within {heartbeats.ALIVE_SECONDS:g} s.",
            value=workers,
        )

    def _read(self) -> tuple[list, list, dict[str, float], int]:
        client = redis_client()
        now = time.time()
        pipeline = client.pipeline(transaction=False)
        pipeline.hgetall(KEY_TOTALS)
        pipeline.hgetall(KEY_GAUGES)
        pipeline.zrangebyscore(KEY_PROCESSES, now - PROCESS_TTL_SECONDS, "+inf")
        pipeline.hgetall(KEY_MARKS)
        pipeline.zcount(heartbeats.KEY, now - heartbeats.ALIVE_SECONDS, "+inf")
        raw_totals, raw_gauges, alive, raw_marks, workers = pipeline.execute()
        alive = {process.decode() for process in alive}
        totals = [(field.decode(), float(value)) for field, value in raw_totals.items()]
        gauges, dead = [], []
        for key, value in raw_gauges.items():
            process, field = key.decode().split("|", 1)
            if process in alive:
                gauges.append((field, float(value)))
            else:
                dead.append(key)
        if dead:  # processes gone for good: their gauges no longer count
            client.hdel(KEY_GAUGES, *dead)
            client.zremrangebyscore(KEY_PROCESSES, "-inf", now - PROCESS_TTL_SECONDS)
        marks = {name.decode(): float(value) for name, value in raw_marks.items()}
        return totals, gauges, marks, workers


def _family(local: Metric, stored: dict[tuple, float]) -> Metric:
    """`local`'s family (name, help, type) with the stored samples; an unlabelled sample no
    process has recorded yet reads 0, so every series exists from the start."""
    family = Metric(local.name, local.documentation, local.type, local.unit)
    samples = dict(stored)
    for sample in local.samples:
        key = (sample.name, tuple(sorted(sample.labels.items())))
        if not sample.name.endswith("_created") and set(sample.labels) <= {"le"}:
            samples.setdefault(key, 0.0)
    for (name, labels), value in sorted(samples.items(), key=_exposition_order):
        family.add_sample(name, dict(labels), value)
    return family


def _exposition_order(item) -> tuple:
    """Series by their labels, then a histogram's buckets in increasing `le`, then its count
    and sum."""
    (name, labels), _ = item
    series = tuple((k, v) for k, v in labels if k != "le")
    le = dict(labels).get("le")
    return (series, name.endswith("_bucket") is False, float(le) if le else 0.0, name)
