"""The admin shows accounts, transfers, entries and events, and changes nothing."""

import pytest
from django.urls import reverse

from api.accounts.tests.factories import user_create
from api.transfers.models import Event, LedgerEntry
from api.transfers.tests.helpers import pending_create, settle

pytestmark = pytest.mark.django_db

MODELS = ["accounts_account", "transfers_transfer", "transfers_ledgerentry", "transfers_event"]


@pytest.fixture
def staff_client(client):
    staff = user_create()
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    return client


@pytest.fixture
def transfer(make_wallet):
    alice = make_wallet(balance=123456, full_name="Asha Rao")
    bob = make_wallet(full_name="Bharat Iyer")
    return settle(pending_create(sender=alice, receiver=bob, amount=12550).pk)


@pytest.mark.parametrize("model", MODELS)
def test_changelists_show_amounts_in_rupees(staff_client, transfer, model):
    response = staff_client.get(reverse(f"admin:{model}_changelist"))

    assert response.status_code == 200
    if model != "transfers_event":
        assert "125.50" in response.content.decode()


def test_a_transfer_page_is_read_only_with_its_entries(staff_client, transfer):
    response = staff_client.get(reverse("admin:transfers_transfer_change", args=[transfer.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "-125.50" in body and "1109.06" in body  # the sender's entry and balance after
    assert 'name="_save"' not in body


@pytest.mark.parametrize(
    ("model", "row"),
    [
        ("transfers_transfer", lambda t: t),
        ("transfers_ledgerentry", lambda t: LedgerEntry.objects.filter(transfer=t).first()),
        ("transfers_event", lambda t: Event.objects.first()),
        ("accounts_account", lambda t: t.sender),
    ],
)
def test_nothing_can_be_added_changed_or_deleted(staff_client, transfer, model, row):
    pk = row(transfer).pk

    assert staff_client.get(reverse(f"admin:{model}_add")).status_code == 403
    assert staff_client.post(reverse(f"admin:{model}_change", args=[pk]), {}).status_code == 403
    assert staff_client.post(reverse(f"admin:{model}_delete", args=[pk]), {}).status_code == 403


@pytest.mark.parametrize("query", ["not-a-uuid", "0f4d6ad1-4a34-4b4f-9d43-8d0b4f3c1e10"])
def test_a_search_that_matches_nothing_still_answers(staff_client, transfer, query):
    url = reverse("admin:transfers_transfer_changelist")
    assert staff_client.get(url, {"q": query}).status_code == 200


@pytest.mark.parametrize("key", ["uuid", "receiver email"])
def test_transfers_are_found_by_uuid_and_email(staff_client, transfer, key):
    query = str(transfer.uuid) if key == "uuid" else transfer.receiver.user.email
    response = staff_client.get(reverse("admin:transfers_transfer_changelist"), {"q": query})
    assert str(transfer.uuid) in response.content.decode()
