import pytest
from django.test import Client

from api.users.aadhaar import generate as aadhaar_number
from api.users.models import AadhaarRevealAudit, User
from api.users.services import user_staff_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    staff = user_staff_create(
        email="root@vaultpay.in",
        password="staff-horse-42",
        full_name="Root",
        aadhaar="2345 6789 0124",
    )
    staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)
    return client


def test_user_admin_shows_the_masked_aadhaar_only(admin_client, make_user):
    user = make_user()

    listing = admin_client.get("/admin/users/user/")
    page = admin_client.get(f"/admin/users/user/{user.pk}/change/")

    assert listing.status_code == page.status_code == 200
    html = page.content.decode()
    assert f"XXXX XXXX {user.aadhaar_last4}" in html
    for secret in [user.aadhaar_ciphertext, user.aadhaar_index, user.password]:
        assert secret not in html and secret not in listing.content.decode()
    assert "aadhaar_ciphertext" not in html and "aadhaar_index" not in html


def test_user_admin_cannot_add_or_delete(admin_client, make_user):
    user = make_user()

    assert admin_client.get("/admin/users/user/add/").status_code == 403
    assert admin_client.get(f"/admin/users/user/{user.pk}/delete/").status_code == 403


def test_the_deactivate_action_goes_through_the_service(admin_client, client, make_user, login):
    user = make_user()
    refresh = login(user.email)["refresh"]

    response = admin_client.post(
        "/admin/users/user/", {"action": "deactivate", "_selected_action": [str(user.pk)]}
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active is False
    assert User.objects.filter(is_active=True).count() == 1  # only the admin
    assert client.post("/api/users/token/refresh/", {"refresh": refresh}).status_code == 401


def test_reveal_audit_admin_is_read_only(admin_client, make_user):
    user = make_user()
    audit = AadhaarRevealAudit.objects.create(
        user=user, succeeded=False, ip_address="10.0.0.1", request_id="r-1"
    )

    assert admin_client.get("/admin/users/aadhaarrevealaudit/").status_code == 200
    page = admin_client.get(f"/admin/users/aadhaarrevealaudit/{audit.pk}/change/")
    assert page.status_code == 200 and "10.0.0.1" in page.content.decode()
    assert admin_client.get("/admin/users/aadhaarrevealaudit/add/").status_code == 403
    posted = admin_client.post(
        f"/admin/users/aadhaarrevealaudit/{audit.pk}/change/", {"succeeded": "on"}
    )
    assert posted.status_code == 403
    audit.refresh_from_db()
    assert audit.succeeded is False


@pytest.mark.parametrize(
    "path",
    [
        "/admin/users/user/",
        "/admin/users/aadhaarrevealaudit/",
        "/admin/accounts/account/",
        "/admin/transfers/transfer/",
        "/admin/transfers/ledgerentry/",
        "/admin/transfers/event/",
    ],
)
def test_plain_staff_can_look_but_not_change(path, make_user):
    make_user()  # a user, a wallet, a welcome credit, its entries and events to list
    staff = user_staff_create(
        email="ops@vaultpay.in",
        password="staff-horse-42",
        full_name="Ops",
        aadhaar=aadhaar_number(),
    )
    client = Client()
    client.force_login(staff)

    assert client.get(path).status_code == 200
    assert client.get(f"{path}add/").status_code == 403


def test_customers_cannot_open_the_admin(make_user):
    client = Client()
    client.force_login(make_user())

    assert client.get("/admin/transfers/transfer/").status_code == 302  # to the admin login
