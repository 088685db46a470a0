"""The wallet's read endpoints: balance, one transfer, history, cash flow."""

import uuid
from base64 import b64encode
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Q
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from api.accounts.models import Account
from api.core.testing import assert_error
from api.transfers.models import Transfer
from api.transfers.tests.helpers import deposit, pending_create, settle

pytestmark = pytest.mark.django_db

# 17:30 in India: "today" is the same date in UTC and IST.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TREASURY = {"id": None, "full_name": "VaultPay", "email": None}


@pytest.fixture
def freeze(monkeypatch):
    """freeze(moment): from then on django.utils.timezone.now() is `moment` for services,
    auto_now fields and views alike, so entries land on chosen dates without being updated
    (they are immutable). Tokens keep the real clock."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    set_now(NOW)
    return set_now


def get(account: Account, path: str, **params):
    """GET as the wallet's user with a real access token."""
    client = APIClient()
    token = AccessToken.for_user(account.user)
    return client.get(path, params, HTTP_AUTHORIZATION=f"Bearer {token}")


def paid(sender: Account, receiver: Account, amount: int, note: str = "") -> Transfer:
    return settle(pending_create(sender=sender, receiver=receiver, amount=amount, note=note).pk)


def party(account: Account) -> dict:
    user = account.user
    return {"id": str(user.pk), "full_name": user.full_name, "email": user.email}


def staff_wallet(make_wallet) -> Account:
    wallet = make_wallet()
    wallet.user.is_staff = True
    wallet.user.save(update_fields=["is_staff"])
    return wallet


# Authentication


@pytest.mark.parametrize(
    "path",
    [
        "/api/wallet/balance/",
        f"/api/wallet/transfers/{uuid.uuid4()}/",
        "/api/wallet/history/",
        "/api/wallet/cashflow/",
    ],
)
def test_every_read_needs_a_valid_access_token(path):
    assert_error(APIClient().get(path), 401, "not_authenticated")
    bad_token = APIClient().get(path, HTTP_AUTHORIZATION="Bearer not-a-token")
    assert_error(bad_token, 401, "token_not_valid")


# Balance


def test_balance_counts_outgoing_pending_transfers(make_wallet, freeze):
    alice, bob = make_wallet(balance=10_000), make_wallet()
    pending_create(sender=alice, receiver=bob, amount=2_550)
    pending_create(sender=bob, receiver=alice, amount=99_999)  # incoming: not counted

    response = get(alice, "/api/wallet/balance/")

    assert response.status_code == 200
    assert response.json() == {
        "balance": "100.00",
        "pending_out": "25.50",
        "available": "74.50",
        "currency": "INR",
        "updated_at": "2026-03-10T12:00:00.000000Z",
    }


# One transfer


def test_the_sender_sees_the_transfer_json(make_wallet, freeze):
    alice, bob = make_wallet(balance=20_000), make_wallet()
    transfer = pending_create(sender=alice, receiver=bob, amount=12_550, note="chai ☕")
    freeze(NOW + timedelta(seconds=2))
    settle(transfer.pk)

    response = get(alice, f"/api/wallet/transfers/{transfer.uuid}/")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(transfer.uuid),
        "status": "SUCCESS",
        "failure_code": None,
        "amount": "125.50",
        "currency": "INR",
        "note": "chai ☕",
        "sender": party(alice),
        "receiver": party(bob),
        "created_at": "2026-03-10T12:00:00.000000Z",
        "settled_at": "2026-03-10T12:00:02.000000Z",
    }


def test_the_receiver_sees_a_transfer_only_once_it_succeeded(make_wallet):
    alice, bob = make_wallet(balance=1_000), make_wallet()
    transfer = pending_create(sender=alice, receiver=bob, amount=600)
    path = f"/api/wallet/transfers/{transfer.uuid}/"

    assert get(alice, path).json()["status"] == "PENDING"
    assert_error(get(bob, path), 404, "not_found")

    settle(transfer.pk)
    assert get(bob, path).json()["status"] == "SUCCESS"


def test_the_receiver_never_sees_a_failed_transfer(make_wallet):
    alice, bob = make_wallet(balance=100), make_wallet()
    transfer = paid(alice, bob, 600)
    assert transfer.status == Transfer.Status.FAILED
    path = f"/api/wallet/transfers/{transfer.uuid}/"

    failed = get(alice, path).json()
    assert (failed["status"], failed["failure_code"]) == ("FAILED", "insufficient_funds")
    assert_error(get(bob, path), 404, "not_found")


def test_strangers_get_404(make_wallet):
    alice, bob, eve = make_wallet(balance=1_000), make_wallet(), make_wallet()
    transfer = paid(alice, bob, 600)

    assert_error(get(eve, f"/api/wallet/transfers/{transfer.uuid}/"), 404, "not_found")


def test_staff_see_treasury_transfers_only(make_wallet):
    staff = staff_wallet(make_wallet)
    alice, bob = make_wallet(), make_wallet()
    credit = deposit(account=alice, amount=1_000)
    payment = paid(alice, bob, 600)

    response = get(staff, f"/api/wallet/transfers/{credit.uuid}/")
    assert response.status_code == 200
    assert (response.json()["sender"], response.json()["receiver"]) == (TREASURY, party(alice))
    assert_error(get(staff, f"/api/wallet/transfers/{payment.uuid}/"), 404, "not_found")


@pytest.mark.parametrize(
    "transfer_id",
    ["not-a-uuid", "12345", "%20", "0" * 40],
)
def test_malformed_ids_are_404(make_wallet, transfer_id):
    assert_error(get(make_wallet(), f"/api/wallet/transfers/{transfer_id}/"), 404, "not_found")


def test_only_the_canonical_id_is_found(make_wallet):
    alice, bob = make_wallet(balance=1_000), make_wallet()
    public_id = pending_create(sender=alice, receiver=bob, amount=100).uuid

    for other_spelling in (public_id.hex, str(public_id).upper(), f"{{{public_id}}}"):
        response = get(alice, f"/api/wallet/transfers/{other_spelling}/")
        assert_error(response, 404, "not_found")


def test_unknown_ids_are_404(make_wallet):
    assert_error(get(make_wallet(), f"/api/wallet/transfers/{uuid.uuid4()}/"), 404, "not_found")


# History


def test_history_rows(make_wallet, freeze):
    alice, bob = make_wallet(full_name="Alice"), make_wallet(balance=50_000, full_name="Bob")
    freeze(NOW + timedelta(seconds=1))
    credit = deposit(account=alice, amount=1_000)
    freeze(NOW + timedelta(seconds=2))
    sent = paid(alice, bob, 250, note="lunch")
    freeze(NOW + timedelta(seconds=3))
    received = paid(bob, alice, 12_550)
    freeze(NOW + timedelta(seconds=4))
    refused = paid(alice, bob, 999_999)
    freeze(NOW + timedelta(seconds=5))
    waiting = pending_create(sender=alice, receiver=bob, amount=100)
    # Incoming transfers that did not succeed are the sender's business only.
    pending_create(sender=bob, receiver=alice, amount=100)
    paid(bob, alice, 999_999)

    response = get(alice, "/api/wallet/history/")

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "id": str(waiting.uuid),
                "direction": "out",
                "counterparty": party(bob),
                "amount": "1.00",
                "status": "PENDING",
                "failure_code": None,
                "note": "",
                "created_at": "2026-03-10T12:00:05.000000Z",
                "settled_at": None,
            },
            {
                "id": str(refused.uuid),
                "direction": "out",
                "counterparty": party(bob),
                "amount": "9999.99",
                "status": "FAILED",
                "failure_code": "insufficient_funds",
                "note": "",
                "created_at": "2026-03-10T12:00:04.000000Z",
                "settled_at": "2026-03-10T12:00:04.000000Z",
            },
            {
                "id": str(received.uuid),
                "direction": "in",
                "counterparty": party(bob),
                "amount": "125.50",
                "status": "SUCCESS",
                "failure_code": None,
                "note": "",
                "created_at": "2026-03-10T12:00:03.000000Z",
                "settled_at": "2026-03-10T12:00:03.000000Z",
            },
            {
                "id": str(sent.uuid),
                "direction": "out",
                "counterparty": party(bob),
                "amount": "2.50",
                "status": "SUCCESS",
                "failure_code": None,
                "note": "lunch",
                "created_at": "2026-03-10T12:00:02.000000Z",
                "settled_at": "2026-03-10T12:00:02.000000Z",
            },
            {
                "id": str(credit.uuid),
                "direction": "in",
                "counterparty": TREASURY,
                "amount": "10.00",
                "status": "SUCCESS",
                "failure_code": None,
                "note": "",
                "created_at": "2026-03-10T12:00:01.000000Z",
                "settled_at": "2026-03-10T12:00:01.000000Z",
            },
        ],
        "next": None,
        "previous": None,
    }


def test_history_breaks_ties_by_acceptance_order(make_wallet, freeze):
    alice, bob = make_wallet(balance=1_000), make_wallet(balance=1_000)
    freeze(NOW + timedelta(seconds=1))
    same_moment = [
        pending_create(sender=alice, receiver=bob, amount=100),
        paid(bob, alice, 100),
        pending_create(sender=alice, receiver=bob, amount=200),
    ]

    rows = get(alice, "/api/wallet/history/").json()["results"]

    newest_first = [str(t.uuid) for t in reversed(same_moment)]
    assert [row["id"] for row in rows][:3] == newest_first


@pytest.fixture
def mixed_history(make_wallet):
    """alice's history: one of each kind of row, and what bob sent her that she cannot see."""
    alice, bob = make_wallet(balance=1_000), make_wallet(balance=1_000)
    rows = {
        "out SUCCESS": paid(alice, bob, 100),
        "out FAILED": paid(alice, bob, 999_999),
        "out PENDING": pending_create(sender=alice, receiver=bob, amount=100),
        "in SUCCESS": paid(bob, alice, 100),
    }
    pending_create(sender=bob, receiver=alice, amount=100)
    paid(bob, alice, 999_999)
    rows["in SUCCESS (funding)"] = Transfer.objects.get(receiver=alice, kind="deposit")
    return alice, {name: str(transfer.uuid) for name, transfer in rows.items()}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"direction": "out"}, {"out SUCCESS", "out FAILED", "out PENDING"}),
        ({"direction": "in"}, {"in SUCCESS", "in SUCCESS (funding)"}),
        ({"status": "SUCCESS"}, {"out SUCCESS", "in SUCCESS", "in SUCCESS (funding)"}),
        ({"status": "FAILED"}, {"out FAILED"}),
        ({"status": "PENDING"}, {"out PENDING"}),
        ({"direction": "out", "status": "FAILED"}, {"out FAILED"}),
        ({"direction": "in", "status": "PENDING"}, set()),
        ({"direction": "in", "status": "FAILED"}, set()),
    ],
)
def test_history_filters(mixed_history, params, expected):
    alice, ids = mixed_history

    response = get(alice, "/api/wallet/history/", **params)

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {ids[name] for name in expected}


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"direction": "sideways"}, {"direction": ['"sideways" is not a valid choice.']}),
        ({"direction": "IN"}, {"direction": ['"IN" is not a valid choice.']}),
        ({"status": "success"}, {"status": ['"success" is not a valid choice.']}),
        ({"status": "EXPIRED"}, {"status": ['"EXPIRED" is not a valid choice.']}),
        # A parameter given blank is a value to check, not an absent one.
        (
            {"direction": "", "status": ""},
            {"direction": ['"" is not a valid choice.'], "status": ['"" is not a valid choice.']},
        ),
    ],
)
def test_unknown_filter_values_are_400(make_wallet, params, fields):
    response = get(make_wallet(), "/api/wallet/history/", **params)

    assert_error(response, 400, "validation_error", fields)


def walk(account: Account, url: str, link: str) -> list[list[str]]:
    """The ids on each page from `url` on, following the `link` ("next" or "previous")."""
    found = []
    while url:
        response = get(account, url)
        assert response.status_code == 200, response.content
        found.append([row["id"] for row in response.json()["results"]])
        url = response.json()[link]
    return found


def test_pages_cover_the_history_once_in_order_both_ways(make_wallet, freeze):
    alice, bob = make_wallet(), make_wallet(balance=100_000)
    for number in range(45):
        # Groups of four share a timestamp, so ties straddle page boundaries.
        freeze(NOW + timedelta(seconds=number // 4))
        if number % 3:
            pending_create(sender=alice, receiver=bob, amount=100 + number)
        else:
            paid(bob, alice, 100 + number)
    newest_first = [
        str(public_id)
        for public_id in Transfer.objects.filter(Q(sender=alice) | Q(receiver=alice))
        .order_by("-created_at", "-id")
        .values_list("uuid", flat=True)
    ]

    forward = walk(alice, "/api/wallet/history/?page_size=7", "next")
    assert [len(page) for page in forward] == [7] * 6 + [3]
    assert [public_id for page in forward for public_id in page] == newest_first

    last_page = get(alice, "/api/wallet/history/?page_size=7").json()
    while last_page["next"]:
        last_page = get(alice, last_page["next"]).json()
    backward = walk(alice, last_page["previous"], "previous")
    assert [len(page) for page in backward] == [7] * 6
    assert [public_id for page in reversed(backward) for public_id in page] == newest_first[:-3]


def test_page_size_defaults_to_20_and_goes_up_to_100(make_wallet):
    alice, bob = make_wallet(), make_wallet()
    for _ in range(101):
        pending_create(sender=alice, receiver=bob, amount=100)

    assert len(get(alice, "/api/wallet/history/").json()["results"]) == 20
    assert len(get(alice, "/api/wallet/history/", page_size=1).json()["results"]) == 1
    assert len(get(alice, "/api/wallet/history/", page_size=100).json()["results"]) == 100


@pytest.mark.parametrize(
    ("page_size", "message"),
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("101", "Ensure this value is less than or equal to 100."),
        ("", "A valid integer is required."),
        ("-1", "A valid integer is required."),
        ("20.0", "A valid integer is required."),
        ("+20", "A valid integer is required."),
        (" 20", "A valid integer is required."),
        ("twenty", "A valid integer is required."),
        ("\u0662\u0660", "A valid integer is required."),  # Arabic-Indic digits
    ],
)
def test_invalid_page_sizes_are_400(make_wallet, page_size, message):
    response = get(make_wallet(), "/api/wallet/history/", page_size=page_size)

    assert_error(response, 400, "validation_error", {"page_size": [message]})


def cursor_of(querystring: str) -> str:
    return b64encode(querystring.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !",
        cursor_of("o=1"),  # no position
        cursor_of("p=yesterday|" + str(uuid.uuid4())),
        cursor_of("p=2026-13-01T00:00:00+00:00|" + str(uuid.uuid4())),
        cursor_of("p=2026-03-10T12:00:00|" + str(uuid.uuid4())),  # no offset: ambiguous
        cursor_of("p=0001-01-01T00:00:00+05:30|" + str(uuid.uuid4())),  # before year 1 in UTC
        cursor_of("p=2026-03-10T12:00:00+00:00|not-a-uuid"),
        cursor_of("p=2026-03-10T12:00:00+00:00|" + str(uuid.uuid4()) + "&r=x"),
    ],
)
def test_invalid_cursors_are_400(make_wallet, cursor):
    response = get(make_wallet(), "/api/wallet/history/", cursor=cursor)

    assert_error(
        response,
        400,
        "validation_error",
        {"cursor": ["Invalid cursor: follow the `next` and `previous` links as given."]},
    )


@pytest.mark.parametrize("page_size", [1, 20, 100])
def test_a_page_costs_the_same_queries_whatever_its_size(
    make_wallet, django_assert_num_queries, page_size
):
    alice, bob, carol = make_wallet(balance=100_000), make_wallet(), make_wallet(balance=100_000)
    for number in range(200):
        if number % 4:
            pending_create(sender=alice, receiver=[bob, carol][number % 2], amount=100)
        else:
            paid(carol, alice, 100)

    # The user (from the token), the wallet, then the page with both parties' users.
    with django_assert_num_queries(3):
        first = get(alice, "/api/wallet/history/", page_size=page_size)
    with django_assert_num_queries(3):
        second = get(alice, first.json()["next"])

    assert len(first.json()["results"]) == len(second.json()["results"]) == page_size


# Cash flow


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def day(date: str, inflow: str, outflow: str, balance: str) -> dict:
    return {"date": date, "in": inflow, "out": outflow, "balance": balance}


def test_cashflow_sums_each_indian_calendar_day(make_wallet, freeze):
    alice, bob = make_wallet(), make_wallet(balance=1_000_000)
    freeze(utc(2026, 2, 1, 10, 0))
    deposit(account=alice, amount=50_000)
    # 23:59:59.999999 in India on 3 March: the day before the window.
    freeze(utc(2026, 3, 3, 18, 29, 59, 999_999))
    paid(alice, bob, 10_000)
    # Midnight in India: the window's first day, 4 March.
    freeze(utc(2026, 3, 3, 18, 30))
    paid(bob, alice, 5_000)
    freeze(utc(2026, 3, 4, 18, 29, 59))
    paid(alice, bob, 2_000)
    freeze(utc(2026, 3, 4, 18, 30))
    paid(bob, alice, 150)
    # 23:30 UTC on 6 March is 05:00 on 7 March in India.
    freeze(utc(2026, 3, 6, 23, 30))
    paid(alice, bob, 3_150)
    paid(bob, alice, 1_000)
    assert paid(alice, bob, 999_999).status == Transfer.Status.FAILED
    pending_create(sender=alice, receiver=bob, amount=100)
    pending_create(sender=bob, receiver=alice, amount=100)
    # 18:40 UTC on 9 March is ten past midnight on 10 March in India.
    freeze(utc(2026, 3, 9, 18, 40))
    deposit(account=alice, amount=1)
    freeze(NOW)

    response = get(alice, "/api/wallet/cashflow/", days=7)

    assert response.status_code == 200
    assert response.json() == {
        "timezone": "Asia/Kolkata",
        "days": [
            day("2026-03-04", "50.00", "20.00", "430.00"),
            day("2026-03-05", "1.50", "0.00", "431.50"),
            day("2026-03-06", "0.00", "0.00", "431.50"),
            day("2026-03-07", "10.00", "31.50", "410.00"),
            day("2026-03-08", "0.00", "0.00", "410.00"),
            day("2026-03-09", "0.00", "0.00", "410.00"),
            day("2026-03-10", "0.01", "0.00", "410.01"),
        ],
    }
    alice.refresh_from_db()
    assert alice.balance == 41_001


def test_cashflow_carries_the_balance_from_before_the_window(make_wallet, freeze):
    alice = make_wallet()
    freeze(utc(2025, 1, 1))
    deposit(account=alice, amount=12_345)
    freeze(NOW)

    days = get(alice, "/api/wallet/cashflow/", days=3).json()["days"]

    assert days == [
        day("2026-03-08", "0.00", "0.00", "123.45"),
        day("2026-03-09", "0.00", "0.00", "123.45"),
        day("2026-03-10", "0.00", "0.00", "123.45"),
    ]


def test_cashflow_ends_today_in_india_not_in_utc(make_wallet, freeze):
    freeze(utc(2026, 3, 10, 20, 0))  # 01:30 on 11 March in India

    days = get(make_wallet(), "/api/wallet/cashflow/", days=2).json()["days"]

    assert [row["date"] for row in days] == ["2026-03-10", "2026-03-11"]


def test_cashflow_defaults_to_30_days_of_zeros(make_wallet, freeze):
    days = get(make_wallet(), "/api/wallet/cashflow/").json()["days"]

    first = NOW.date() - timedelta(days=29)
    assert days == [day(str(first + timedelta(days=n)), "0.00", "0.00", "0.00") for n in range(30)]


@pytest.mark.parametrize(("days", "rows"), [("1", 1), ("365", 365)])
def test_cashflow_takes_1_to_365_days(make_wallet, freeze, days, rows):
    response = get(make_wallet(), "/api/wallet/cashflow/", days=days)

    assert response.status_code == 200
    assert len(response.json()["days"]) == rows
    assert response.json()["days"][-1]["date"] == "2026-03-10"


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("366", "Ensure this value is less than or equal to 365."),
        ("", "A valid integer is required."),
        ("-7", "A valid integer is required."),
        ("7.0", "A valid integer is required."),
        ("7.5", "A valid integer is required."),
        ("+7", "A valid integer is required."),
        ("1e2", "A valid integer is required."),
        ("week", "A valid integer is required."),
        ("9" * 30, "Ensure this value is less than or equal to 365."),
    ],
)
def test_invalid_days_are_400(make_wallet, days, message):
    response = get(make_wallet(), "/api/wallet/cashflow/", days=days)

    assert_error(response, 400, "validation_error", {"days": [message]})
