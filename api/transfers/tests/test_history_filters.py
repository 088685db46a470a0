"""GET /api/wallet/history/ filters: `q` (counterparty or note) and `from`/`to` (IST days)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from api.core.testing import assert_error
from api.transfers.tests.helpers import client_of, pending_create, settle

pytestmark = pytest.mark.django_db

URL = "/api/wallet/history/"
# 23:59:59 on 9 March in India, and midnight starting 10 March there (UTC+05:30).
LAST_SECOND_OF_MAR_9_IST = datetime(2026, 3, 9, 18, 29, 59, tzinfo=UTC)
MIDNIGHT_MAR_10_IST = datetime(2026, 3, 9, 18, 30, tzinfo=UTC)


@pytest.fixture
def at(monkeypatch):
    """at(moment): transfers accepted and settled from then on carry `moment`."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_now


def paid(sender, receiver, amount: int = 100, note: str = ""):
    return settle(pending_create(sender=sender, receiver=receiver, amount=amount, note=note).pk)


def ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def people(make_wallet):
    """alice (funded by the treasury) and three people she deals with."""
    alice = make_wallet(balance=100_000, full_name="Alice Menon")
    bob = make_wallet(balance=100_000, full_name="Bob Fernandes")
    carol = make_wallet(full_name="Carol D'Souza")
    dave = make_wallet(full_name="Dave_Kumar")
    return alice, bob, carol, dave


def test_q_matches_the_counterpartys_name_or_email_or_the_note_in_any_case(people):
    alice, bob, carol, dave = people
    to_carol = paid(alice, carol, note="Chai at Koshy's")
    from_bob = paid(bob, alice, note="rent share")
    paid(alice, dave, note="movie")
    client = client_of(alice)

    assert ids(client.get(URL, {"q": "CAROL"})) == {str(to_carol.uuid)}
    assert ids(client.get(URL, {"q": "fernandes"})) == {str(from_bob.uuid)}
    assert ids(client.get(URL, {"q": bob.user.email.upper()})) == {str(from_bob.uuid)}
    assert ids(client.get(URL, {"q": "koshy"})) == {str(to_carol.uuid)}
    assert ids(client.get(URL, {"q": "RENT"})) == {str(from_bob.uuid)}
    # Her own name is on every row, but she is never her own counterparty.
    assert ids(client.get(URL, {"q": "Menon"})) == set()
    assert ids(client.get(URL, {"q": "nobody"})) == set()


def test_percent_and_underscore_match_literally(people):
    alice, bob, carol, dave = people
    percent = paid(alice, bob, note="100% of the bill")
    underscore = paid(alice, carol, note="ref_42")
    paid(alice, bob, note="100 of the bill")
    paid(alice, carol, note="ref-42")
    to_dave = paid(alice, dave)  # "Dave_Kumar"
    client = client_of(alice)

    # As LIKE wildcards, "%" would match every row and "_" every non-empty name or note.
    assert ids(client.get(URL, {"q": "%"})) == {str(percent.uuid)}
    assert ids(client.get(URL, {"q": "0%"})) == {str(percent.uuid)}
    assert ids(client.get(URL, {"q": "_"})) == {str(underscore.uuid), str(to_dave.uuid)}
    assert ids(client.get(URL, {"q": "f_4"})) == {str(underscore.uuid)}
    assert ids(client.get(URL, {"q": "\\"})) == set()


def test_the_treasury_is_found_by_its_name(people):
    alice, bob, _, _ = people
    funding = alice.transfers_in.get(sender__user__isnull=True)
    paid(bob, alice)
    client = client_of(alice)

    for q in ["VaultPay", "vault", "tPa"]:
        assert ids(client.get(URL, {"q": q})) == {str(funding.uuid)}, q
    assert ids(client.get(URL, {"q": "VaultPay!"})) == set()


def test_from_and_to_are_inclusive_indian_calendar_days(people, at):
    alice, bob, _, _ = people
    at(LAST_SECOND_OF_MAR_9_IST)
    late_on_the_9th = paid(alice, bob)
    at(MIDNIGHT_MAR_10_IST)
    early_on_the_10th = paid(alice, bob)
    at(MIDNIGHT_MAR_10_IST + timedelta(days=1) - timedelta(microseconds=1))
    last_moment_of_the_10th = paid(alice, bob)
    at(MIDNIGHT_MAR_10_IST + timedelta(days=1))
    on_the_11th = paid(alice, bob)
    client = client_of(alice)
    the_10th = {str(early_on_the_10th.uuid), str(last_moment_of_the_10th.uuid)}

    assert ids(client.get(URL, {"from": "2026-03-10", "to": "2026-03-10"})) == the_10th
    assert ids(client.get(URL, {"to": "2026-03-09", "direction": "out"})) == {
        str(late_on_the_9th.uuid)
    }
    assert ids(client.get(URL, {"from": "2026-03-11", "direction": "out"})) == {
        str(on_the_11th.uuid)
    }
    assert ids(client.get(URL, {"from": "0001-01-01", "to": "9999-12-31", "direction": "out"})) == (
        the_10th | {str(late_on_the_9th.uuid), str(on_the_11th.uuid)}
    )


def test_filters_combine_with_each_other_and_with_pages(people, at, django_assert_num_queries):
    alice, bob, carol, _ = people
    expected = []
    for number in range(30):
        at(MIDNIGHT_MAR_10_IST + timedelta(hours=number))
        sent = paid(alice, bob if number % 2 else carol, note="chai" if number % 3 else "lunch")
        pending_create(sender=alice, receiver=bob, amount=100, note="chai")
        paid(bob, alice, note="chai")
        if number % 3 and number < 24:  # chai, on 10 March in India
            expected.append(str(sent.uuid))
    client = client_of(alice)
    url = f"{URL}?q=CHAI&status=SUCCESS&direction=out&from=2026-03-10&to=2026-03-10&page_size=5"

    pages = []
    while url:
        # The user (from the token), the wallet, then the page with both parties' users.
        with django_assert_num_queries(3):
            response = client.get(url)
        pages.append([row["id"] for row in response.json()["results"]])
        url = response.json()["next"]

    assert [len(page) for page in pages] == [5, 5, 5, 1]
    assert [public_id for page in pages for public_id in page] == list(reversed(expected))


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"q": ""}, {"q": ["This field may not be blank."]}),
        ({"q": "x" * 65}, {"q": ["Ensure this field has no more than 64 characters."]}),
        ({"q": "a\x00b"}, {"q": ["Null characters are not allowed."]}),
        ({"from": ""}, {"from": ["Enter a date as YYYY-MM-DD."]}),
        ({"from": "yesterday"}, {"from": ["Enter a date as YYYY-MM-DD."]}),
        ({"from": "2026-3-5"}, {"from": ["Enter a date as YYYY-MM-DD."]}),
        ({"from": "20260305"}, {"from": ["Enter a date as YYYY-MM-DD."]}),
        ({"from": "2026-W10-1"}, {"from": ["Enter a date as YYYY-MM-DD."]}),
        ({"to": "2026-02-30"}, {"to": ["Enter a date as YYYY-MM-DD."]}),
        ({"to": "2026-03-10T00:00"}, {"to": ["Enter a date as YYYY-MM-DD."]}),
        ({"to": "\u0662\u0660\u0662\u0666-03-10"}, {"to": ["Enter a date as YYYY-MM-DD."]}),
        ({"from": "2026-03-11", "to": "2026-03-10"}, {"to": ["Must not be before `from`."]}),
    ],
)
def test_invalid_filters_are_400(make_wallet, params, fields):
    response = client_of(make_wallet()).get(URL, params)

    assert_error(response, 400, "validation_error", fields)


def test_a_64_character_q_is_accepted(make_wallet):
    assert client_of(make_wallet()).get(URL, {"q": "x" * 64}).status_code == 200
