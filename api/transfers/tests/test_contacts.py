"""GET /api/wallet/contacts/: the people the caller paid, most recently paid first."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.core.testing import assert_error
from api.transfers.tests.helpers import client_of, pending_create, settle

pytestmark = pytest.mark.django_db

URL = "/api/wallet/contacts/"
START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def at(monkeypatch):
    """at(moment): transfers accepted and settled from then on carry `moment`."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_now


def paid(sender, receiver, amount: int = 100):
    return settle(pending_create(sender=sender, receiver=receiver, amount=amount).pk)


def contact(account, last_paid_at: datetime, times_paid: int) -> dict:
    user = account.user
    return {
        "id": str(user.pk),
        "full_name": user.full_name,
        "email": user.email,
        "last_paid_at": last_paid_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "times_paid": times_paid,
    }


def test_contacts_are_the_users_paid_most_recently_first(make_wallet, at):
    at(START)
    alice = make_wallet(balance=1_000)
    bob, carol, dave, erin = (make_wallet(full_name=n) for n in ["Bob", "Carol", "Dave", "Erin"])
    at(START + timedelta(minutes=1))
    paid(alice, bob)
    at(START + timedelta(minutes=2))
    paid(alice, carol)
    at(START + timedelta(minutes=3))
    paid(alice, bob)
    # Neither a failed nor a pending payment makes a contact, nor money received.
    paid(alice, dave, amount=5_000)
    pending_create(sender=alice, receiver=erin, amount=100)
    paid(make_wallet(balance=1_000), alice)

    response = client_of(alice).get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            contact(bob, START + timedelta(minutes=3), 2),
            contact(carol, START + timedelta(minutes=2), 1),
        ]
    }


def test_contacts_are_the_latest_20_in_a_constant_number_of_queries(
    make_wallet, at, django_assert_num_queries
):
    at(START)
    alice = make_wallet(balance=100_000)
    payees = [make_wallet() for _ in range(25)]
    for minute, payee in enumerate(payees):
        at(START + timedelta(minutes=minute))
        paid(alice, payee)
        paid(alice, payee)

    client = client_of(alice)
    # The caller (from the token), then one aggregate query.
    with django_assert_num_queries(2):
        response = client.get(URL)

    results = response.json()["results"]
    assert [row["id"] for row in results] == [str(p.user.pk) for p in reversed(payees[5:])]
    assert {row["times_paid"] for row in results} == {2}


def test_deactivated_users_are_left_out(make_wallet):
    alice = make_wallet(balance=1_000)
    bob, carol = make_wallet(), make_wallet()
    paid(alice, bob)
    paid(alice, carol)
    carol.user.is_active = False
    carol.user.save(update_fields=["is_active"])

    results = client_of(alice).get(URL).json()["results"]

    assert [row["id"] for row in results] == [str(bob.user.pk)]


def test_a_new_user_has_no_contacts_and_the_treasury_is_never_one(make_wallet):
    # Funded by the treasury, which is therefore a counterparty but never a payee.
    assert client_of(make_wallet(balance=1_000)).get(URL).json() == {"results": []}


def test_contacts_need_an_access_token():
    assert_error(APIClient().get(URL), 401, "not_authenticated")


def test_the_schema_documents_contacts(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    assert schema["paths"][URL]["get"]["responses"].keys() == {"200", "401", "406", "429", "503"}
    assert set(schema["components"]["schemas"]["Contact"]["properties"]) == {
        "id",
        "full_name",
        "email",
        "last_paid_at",
        "times_paid",
    }
