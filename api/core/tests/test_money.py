import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from api.core.money import format_paise, parse_paise, setting_paise


@pytest.mark.parametrize(
    ("text", "paise"),
    [
        ("0", 0),
        ("0.00", 0),
        ("0.5", 50),
        ("0.05", 5),
        ("1", 100),
        ("125.50", 12550),
        ("999999999999.99", 99_999_999_999_999),
    ],
)
def test_well_formed_amounts_parse_to_exact_paise(text, paise):
    assert parse_paise(text) == paise


@pytest.mark.parametrize(
    "value",
    [
        "", "00", "01", "1.", ".5", "1.234", "1.005", "-1", "+1", "1e3", " 1", "1 ", "1\n",
        "1,000", "1_000", "1000000000000", "\uff11", "\u0661", "NaN", "Infinity",
        1, 1.5, None, b"1",
    ],
)  # fmt: skip
def test_anything_else_is_not_an_amount(value):
    assert parse_paise(value) is None


@pytest.mark.parametrize(
    ("paise", "text"), [(0, "0.00"), (5, "0.05"), (50, "0.50"), (12550, "125.50"), (-100, "-1.00")]
)
def test_amounts_are_formatted_with_two_decimals(paise, text):
    assert format_paise(paise) == text


@given(st.integers(min_value=0, max_value=99_999_999_999_999))
def test_formatting_and_parsing_round_trip(paise):
    assert parse_paise(format_paise(paise)) == paise


def test_a_malformed_amount_setting_is_refused():
    assert setting_paise("WELCOME_CREDIT", "1000.00") == 100_000
    with pytest.raises(ImproperlyConfigured, match="WELCOME_CREDIT"):
        setting_paise("WELCOME_CREDIT", "1000.001")
