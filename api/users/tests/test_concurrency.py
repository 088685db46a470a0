"""Races between real requests: threads with their own PostgreSQL connections, each request
in its own outermost transaction as in production."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from api.accounts.models import Account
from api.transfers.tests.threads import run_concurrently
from api.users.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def post(url: str, body: dict):
    def call():
        client = APIClient()
        client.default_format = "json"
        return client.post(url, body)

    return call


def test_the_same_refresh_token_rotates_once_when_sent_twice_at_once(make_user, login):
    refresh = login(make_user().email)["refresh"]

    responses = run_concurrently(
        [post("/api/users/token/refresh/", {"refresh": refresh})] * 2, threads=2
    )

    assert sorted(r.status_code for r in responses) == [200, 401]


@pytest.mark.parametrize("shared", ["email", "aadhaar"])
def test_racing_registrations_of_one_identity_create_one_user(registration, shared):
    first = registration()
    bodies = [first, registration(**{shared: first[shared]})]

    responses = run_concurrently([post("/api/users/register/", b) for b in bodies], threads=2)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 400], [r.content for r in responses]
    loser = next(r for r in responses if r.status_code == 400).json()["error"]
    assert (loser["code"], list(loser["fields"])) == ("validation_error", [shared])
    assert User.objects.count() == 1
    assert Account.objects.filter(kind=Account.Kind.WALLET).count() == 1
    out = io.StringIO()
    call_command("ledger_audit", stdout=out)
    assert out.getvalue().startswith("ledger OK"), out.getvalue()
