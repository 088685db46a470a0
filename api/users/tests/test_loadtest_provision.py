import json
import stat
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework_simplejwt.tokens import AccessToken

from api.accounts.models import Account
from api.transfers.models import Event, LedgerEntry, Transfer
from api.users import aadhaar
from api.users.models import User
from api.users.tests.conftest import bearer

pytestmark = pytest.mark.django_db


def provision(tmp_path, *args) -> dict:
    out = tmp_path / "users.json"
    call_command("loadtest_provision", "--out", str(out), *args, stdout=StringIO())
    return json.loads(out.read_text())


def test_creates_funded_users_with_working_tokens(tmp_path, client):
    document = provision(tmp_path, "--users", "3", "--prefix", "lt1", "--balance", "250.50")

    emails = [u["email"] for u in document["users"]]
    assert emails == [f"lt1-00000{n}@loadtest.vaultpay.test" for n in (1, 2, 3)]
    users = User.objects.filter(email__in=emails)
    assert users.count() == 3
    for user in users:
        number = aadhaar.decrypt(user.aadhaar_ciphertext, user.aadhaar_key_id, user_id=user.pk)
        assert aadhaar.is_valid(number) and user.aadhaar_index == aadhaar.blind_index(number)
        assert user.check_password(document["password"])
        assert Account.objects.get(user=user).balance == 25050
    assert len({u.aadhaar_index for u in users}) == 3
    # Funded through settlement: SUCCESS deposits with their entries and events.
    deposits = Transfer.objects.filter(kind=Transfer.Kind.DEPOSIT)
    assert [t.status for t in deposits] == [Transfer.Status.SUCCESS] * 3
    assert LedgerEntry.objects.count() == 6
    assert Event.objects.count() == 6  # transfer.updated and balance.updated per user
    assert Account.objects.get(kind=Account.Kind.TREASURY).balance == -3 * 25050
    call_command("ledger_audit", stdout=StringIO())

    first = document["users"][0]
    assert AccessToken(first["access"])["user_id"] == str(users.get(email=first["email"]).pk)
    response = client.post(
        "/api/wallet/transfer/",
        {"receiver_email": emails[1], "amount": "1.00"},
        HTTP_IDEMPOTENCY_KEY="provisioned-1",
        **bearer(first["access"]),
    )
    assert response.status_code == 202, response.content
    # A long load run refreshes the access token before it expires; the refresh rotates.
    refreshed = client.post(
        "/api/users/token/refresh/", {"refresh": first["refresh"]}, content_type="application/json"
    )
    assert refreshed.status_code == 200, refreshed.content
    assert AccessToken(refreshed.json()["access"])["user_id"] == str(
        users.get(email=first["email"]).pk
    )
    again = client.post(
        "/api/users/token/refresh/", {"refresh": first["refresh"]}, content_type="application/json"
    )
    assert again.status_code == 401
    assert stat.S_IMODE((tmp_path / "users.json").stat().st_mode) == 0o600


def test_a_second_run_needs_a_new_prefix(tmp_path):
    provision(tmp_path, "--users", "2", "--prefix", "lt2")

    with pytest.raises(CommandError, match="prefix 'lt2' exist already"):
        provision(tmp_path, "--users", "2", "--prefix", "lt2")
    provision(tmp_path, "--users", "2", "--prefix", "lt3", "--balance", "0")
    assert User.objects.count() == 4
    assert Transfer.objects.count() == 2  # a zero balance needs no deposit


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--users", "0", "--prefix", "x"], "--users must be 1 to 100,000"),
        (["--users", "100001", "--prefix", "x"], "--users must be 1 to 100,000"),
        (["--users", "1", "--prefix", "Bad_Prefix"], "--prefix"),
        (["--users", "1", "--prefix", "x", "--balance", "1e3"], "--balance"),
        (["--users", "1", "--prefix", "x", "--balance", "99999999.00"], "validation_error"),
    ],
)
def test_refuses_out_of_bounds_arguments(tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        provision(tmp_path, *args)
    assert not User.objects.exists()
