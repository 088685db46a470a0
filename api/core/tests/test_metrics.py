"""GET /metrics and the shared store, against the real Redis: what a process counts reaches
the scrape once flushed, exactly once; gauges of processes gone stop counting; the token
rules; and /readyz?deep=1 with and without a live worker."""

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.core.heartbeats import worker_heartbeat
from api.core.metrics import store
from api.core.metrics.catalogue import (
    HTTP_REQUESTS,
    SETTLE_LATENCY,
    SOCKETS_OPEN,
    TRANSFERS_ACCEPTED,
)
from api.core.redis import redis_client
from api.core.testing import assert_error

pytestmark = pytest.mark.django_db


def scrape(client, **headers) -> dict[tuple, float]:
    """(sample name, frozenset of labels) -> value, from GET /metrics."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def accepted(samples, kind: str) -> float:
    return samples.get(("vaultpay_transfers_accepted_total", frozenset({("kind", kind)})), 0.0)


def test_counts_reach_the_scrape_once_flushed_and_exactly_once(client):
    before = accepted(scrape(client), "deposit")
    store.flush_now()  # whatever this process counted so far is in Redis now

    TRANSFERS_ACCEPTED.labels("deposit").inc(3)
    store.flush_now()
    store.flush_now()  # nothing new: adds nothing

    assert accepted(scrape(client), "deposit") == before + 3


def test_histograms_are_exposed_with_every_bucket_from_the_start(client):
    samples = scrape(client)
    buckets = sorted(
        (float(dict(labels)["le"]), value)
        for (name, labels), value in samples.items()
        if name == "vaultpay_transfer_settle_latency_seconds_bucket"
    )
    assert [le for le, _ in buckets] == [*SETTLE_LATENCY._upper_bounds]
    count = samples[("vaultpay_transfer_settle_latency_seconds_count", frozenset())]

    SETTLE_LATENCY.observe(0.2)
    store.flush_now()

    after = scrape(client)
    assert after[("vaultpay_transfer_settle_latency_seconds_count", frozenset())] == count + 1
    bucket = ("vaultpay_transfer_settle_latency_seconds_bucket", frozenset({("le", "0.25")}))
    assert after[bucket] == samples[bucket] + 1


def test_the_scrape_counts_http_requests_by_view_and_status(client):
    store.flush_now()
    key = (
        "vaultpay_http_requests_total",
        frozenset({("view", "healthz"), ("method", "GET"), ("status", "200")}),
    )
    before = scrape(client).get(key, 0.0)

    for _ in range(3):
        client.get("/healthz")
    store.flush_now()

    assert scrape(client)[key] == before + 3
    assert HTTP_REQUESTS.labels("healthz", "GET", 200)._value.get() >= 3


def test_gauges_add_up_over_live_processes_and_forget_silent_ones(client):
    gauge = '["vaultpay_sockets_open","vaultpay_sockets_open",{}]'
    now = time.time()
    redis_client().hset(store.KEY_GAUGES, mapping={f"a|{gauge}": 2, f"b|{gauge}": 5})
    redis_client().zadd(store.KEY_PROCESSES, {"a": now, "b": now - store.PROCESS_TTL_SECONDS - 1})
    SOCKETS_OPEN.set(0)

    assert scrape(client)[("vaultpay_sockets_open", frozenset())] == 2
    assert not redis_client().hexists(store.KEY_GAUGES, f"b|{gauge}")


def test_marks_and_workers_alive_are_exposed(client):
    store.mark("vaultpay_ledger_audit_violations", 0)
    store.mark("vaultpay_settlement_sweep_last_run_timestamp_seconds", 1_800_000_000)
    worker_heartbeat(worker="celery@a")
    worker_heartbeat(worker="celery@b")

    samples = scrape(client)
    assert samples[("vaultpay_ledger_audit_violations", frozenset())] == 0
    sweep = ("vaultpay_settlement_sweep_last_run_timestamp_seconds", frozenset())
    assert samples[sweep] == 1_800_000_000
    assert samples[("vaultpay_workers_alive", frozenset())] == 2
    assert samples[("vaultpay_metrics_redis_up", frozenset())] == 1
    assert samples[("vaultpay_metrics_database_up", frozenset())] == 1


def test_the_backlog_gauges_are_read_from_the_database(client):
    samples = scrape(client)
    assert samples[("vaultpay_transfers_pending", frozenset())] == 0
    assert samples[("vaultpay_transfers_pending_oldest_age_seconds", frozenset())] == 0


def test_without_redis_the_scrape_answers_with_what_it_can_read(client, private_redis):
    private_redis.kill()

    samples = scrape(client)

    assert samples[("vaultpay_metrics_redis_up", frozenset())] == 0
    assert samples[("vaultpay_transfers_pending", frozenset())] == 0
    assert not any(name.startswith("vaultpay_transfers_accepted") for name, _ in samples)


def test_a_token_is_required_when_set(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"

    for header in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-scrape-token"}):
        response = client.get("/metrics", headers=header)
        assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'

    assert scrape(client, Authorization="Bearer s3cret-scrape-token")


def test_production_without_a_token_answers_404(client, settings):
    settings.METRICS_TOKEN = None
    settings.METRICS_TOKEN_REQUIRED = True

    assert_error(client.get("/metrics"), 404, "not_found")


def test_readiness_deep_requires_a_live_worker(client):
    assert client.get("/readyz").status_code == 200
    response = client.get("/readyz?deep=1")
    error = assert_error(
        response, 503, "not_ready", fields={"workers": ["no worker alive within 10 s"]}
    )
    assert error["message"] == "Not ready: workers down."
    assert response["Retry-After"] == "5"

    worker_heartbeat(worker="celery@here")

    response = client.get("/readyz?deep=1")
    assert response.status_code == 200
    assert response.json()["checks"]["workers"] == "ok"


@pytest.mark.parametrize("deep", ["", "0", "true", "2"])
def test_readiness_refuses_a_deep_it_does_not_know(client, deep):
    response = client.get("/readyz", {"deep": deep})

    assert_error(response, 400, "validation_error", {"deep": ['Only "1" is a value.']})
