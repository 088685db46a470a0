"""/healthz and /readyz against the real PostgreSQL and Redis, and against closed ports."""

import time

import pytest

from api.core.testing import assert_error

CLOSED = "redis://127.0.0.1:1/0"


def test_healthz_answers_200(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_answers_200_when_everything_is_up(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "ok", "broker": "ok"},
    }


@pytest.mark.django_db
def test_readyz_names_redis_and_the_broker_when_redis_is_down(client, settings):
    settings.REDIS_URL = settings.CELERY_BROKER_URL = CLOSED

    response = client.get("/readyz")

    assert_error(response, 503, "not_ready", {"redis": ["unreachable"], "broker": ["unreachable"]})


@pytest.mark.django_db
def test_readyz_names_only_the_broker_when_only_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = CLOSED

    response = client.get("/readyz")

    assert_error(response, 503, "not_ready", {"broker": ["unreachable"]})


@pytest.mark.django_db
def test_readyz_names_the_database_when_it_is_down(client, database_unreachable):
    response = client.get("/readyz")

    assert_error(response, 503, "not_ready", {"database": ["unreachable"]})


@pytest.mark.django_db
@pytest.mark.parametrize("fault", ["kill", "freeze"])
def test_readyz_names_redis_within_half_a_second_when_it_is_down_or_frozen(
    client, settings, private_redis, fault
):
    settings.CELERY_BROKER_URL = private_redis.url
    getattr(private_redis, fault)()

    started = time.monotonic()
    response = client.get("/readyz")

    assert time.monotonic() - started < 0.75
    assert_error(response, 503, "not_ready", {"redis": ["unreachable"], "broker": ["unreachable"]})
    assert response["Retry-After"] == "5"
