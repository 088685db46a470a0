from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from api.accounts.models import Account
from api.config.tests.test_settings import PRODUCTION_SECRETS, start_django
from api.core.testing import assert_error
from api.transfers.models import Transfer
from api.transfers.services import transfer_accept
from api.users import aadhaar
from api.users.models import User
from api.users.services import user_deactivate
from api.users.signals import users_deactivated
from api.users.tests.conftest import PASSWORD, bearer

pytestmark = pytest.mark.django_db

STAFF_PASSWORD = "staff-horse-42"


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_staff_create_makes_a_staff_user_with_a_wallet_and_a_valid_aadhaar(client):
    out = run("staff_create", "--email", "Ops@VaultPay.in", "--password", STAFF_PASSWORD)

    assert "Created the staff user ops@vaultpay.in" in out
    staff = User.objects.get()
    assert (staff.email, staff.full_name, staff.is_staff, staff.is_active) == (
        "ops@vaultpay.in",
        "VaultPay Staff",
        True,
        True,
    )
    number = aadhaar.decrypt(staff.aadhaar_ciphertext, staff.aadhaar_key_id, user_id=staff.pk)
    assert aadhaar.is_valid(number) and number not in out
    assert Account.objects.get(user=staff).balance == 0  # no welcome credit for staff
    login = client.post(
        "/api/users/login/", {"email": "ops@vaultpay.in", "password": STAFF_PASSWORD}
    )
    assert login.json()["user"]["is_staff"] is True


def test_staff_create_takes_the_given_aadhaar_and_name():
    run(
        "staff_create",
        "--email=ops@vaultpay.in",
        "--full-name=Meera Iyer",
        "--aadhaar=2345 6789 0124",
        f"--password={STAFF_PASSWORD}",
    )

    staff = User.objects.get()
    assert staff.full_name == "Meera Iyer" and staff.aadhaar_last4 == "0124"


def test_staff_create_reads_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", STAFF_PASSWORD)

    run("staff_create", "--email", "ops@vaultpay.in")

    assert User.objects.get().check_password(STAFF_PASSWORD)


def test_staff_create_for_an_existing_user_makes_them_staff(make_user):
    user = make_user(email="asha@example.in")

    out = run("staff_create", "--email", "ASHA@example.in")

    user.refresh_from_db()
    assert user.is_staff and user.check_password(PASSWORD)
    assert "asha@example.in is staff now (password unchanged)" in out
    assert User.objects.count() == 1


def test_staff_create_refuses_invalid_input_without_storing():
    with pytest.raises(CommandError, match=r"password: .*too short"):
        run("staff_create", "--email", "ops@vaultpay.in", "--password", "short")
    with pytest.raises(CommandError, match="aadhaar: Enter a valid Aadhaar number"):
        run(
            "staff_create", "--email=ops@vaultpay.in", "--aadhaar=1", f"--password={STAFF_PASSWORD}"
        )
    assert not User.objects.exists()


def test_user_deactivate_ends_login_refresh_access_and_pending_transfers(client, make_user, login):
    asha, ravi = make_user(), make_user()
    tokens = [login(asha.email), login(asha.email)]
    outgoing, _ = transfer_accept(
        sender_user_id=asha.pk,
        receiver_email=ravi.email,
        amount=100,
        note="",
        idempotency_key="out-1",
    )
    incoming, _ = transfer_accept(
        sender_user_id=ravi.pk,
        receiver_email=asha.email,
        amount=100,
        note="",
        idempotency_key="in-1",
    )

    out = run("user_deactivate", "--email", asha.email.upper())

    assert f"Deactivated {asha.email}: 2 refresh tokens revoked, 2 pending transfers failed" in out
    asha.refresh_from_db()
    assert asha.is_active is False
    outgoing.refresh_from_db()
    incoming.refresh_from_db()
    assert (outgoing.status, outgoing.failure_code) == ("FAILED", "sender_inactive")
    assert (incoming.status, incoming.failure_code) == ("FAILED", "receiver_inactive")
    login_response = client.post("/api/users/login/", {"email": asha.email, "password": PASSWORD})
    assert_error(login_response, 401, "invalid_credentials")
    for pair in tokens:
        refresh = client.post("/api/users/token/refresh/", {"refresh": pair["refresh"]})
        assert_error(refresh, 401, "token_not_valid")
        profile = client.get("/api/users/profile/", **bearer(pair["access"]))
        assert_error(profile, 401, "authentication_failed")
    # Money did not move, and the other user is untouched.
    assert Account.objects.get(user=asha).balance == Account.objects.get(user=ravi).balance
    assert (
        client.post("/api/users/login/", {"email": ravi.email, "password": PASSWORD}).status_code
        == 200
    )


def test_deactivation_is_announced_once_its_transaction_commits(
    make_user, django_capture_on_commit_callbacks
):
    user = make_user()
    announced = []

    def listen(sender, *, user_ids, **kwargs):
        announced.append((sender, user_ids))

    users_deactivated.connect(listen, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            user_deactivate(user=user)
            assert announced == []
    finally:
        users_deactivated.disconnect(listen)

    assert announced == [(User, [user.pk])]


def test_user_deactivate_twice_is_harmless(make_user):
    user = make_user()
    run("user_deactivate", "--email", user.email)

    out = run("user_deactivate", "--email", user.email)

    assert "0 refresh tokens revoked, 0 pending transfers failed" in out


def test_user_deactivate_of_an_unknown_email_fails():
    with pytest.raises(CommandError, match=r"No user has the email nobody@example\.in"):
        run("user_deactivate", "--email", "nobody@example.in")


def test_seed_demo_writes_nothing_where_demo_data_is_not_allowed(settings):
    settings.SEED_DEMO_ALLOWED = False
    users, accounts, transfers = (m.objects.count() for m in (User, Account, Transfer))

    with pytest.raises(CommandError, match="refused under production settings; set DEMO_DATA=1"):
        run("seed_demo", "--users", "2", "--transfers", "1")

    assert (User.objects.count(), Account.objects.count(), Transfer.objects.count()) == (
        users,
        accounts,
        transfers,
    )


def test_seed_demo_is_refused_under_production_settings_unless_demo_data_is_set():
    refused = start_django(
        "api.config.settings.production",
        PRODUCTION_SECRETS,
        then="from django.core.management import execute_from_command_line as run; "
        "run(['manage.py', 'seed_demo'])",
    )
    assert refused.returncode != 0
    assert "seed_demo creates users with a published password and is refused" in refused.stderr

    allowed = start_django(
        "api.config.settings.production",
        {**PRODUCTION_SECRETS, "DEMO_DATA": "1"},
        then="from django.conf import settings; print(settings.SEED_DEMO_ALLOWED)",
    )
    assert allowed.stdout.strip() == "True", allowed.stderr
