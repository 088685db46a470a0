"""The patterns the OpenAPI schema states accept exactly what the server accepts.

Python's `re` reads these patterns as ECMA-262 (JSON Schema's dialect) does: they use only
character classes, groups, alternation and counted repeats, written with \\x and \\u escapes.
"""

import re

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from hypothesis import example, given
from hypothesis import strategies as st
from rest_framework import serializers

from api.core.money import OUTPUT_AMOUNT_PATTERN, amount_pattern, format_paise, parse_paise
from api.core.schema import EMAIL_PATTERN, not_blank_pattern
from api.core.testing import EDGY_TEXT


def amounts(maximum: int):
    """Amount strings in every form around 0 and `maximum`, and malformed ones."""
    near = st.integers(min_value=0, max_value=maximum + 1001) | st.sampled_from(
        [0, 1, 9, 10, 99, 100, maximum - 1, maximum, maximum + 1, maximum + 10]
    )
    return (
        near.flatmap(
            lambda paise: st.sampled_from(
                [
                    format_paise(paise),
                    format_paise(paise).rstrip("0"),
                    format_paise(paise).removesuffix(".00"),
                    f"{paise // 100}.{paise % 100 // 10}",
                    "0" + format_paise(paise),
                    format_paise(paise) + "0",
                ]
            )
        )
        | EDGY_TEXT
    )


@pytest.mark.parametrize("maximum", [1, 99, 100, 12_345, 10_000_000, 1_000_000_000, 123_456_789])
@given(data=st.data())
def test_the_amount_pattern_is_exactly_the_amounts_accepted(maximum, data):
    text = data.draw(amounts(maximum))
    paise = parse_paise(text)

    accepted = paise is not None and 1 <= paise <= maximum
    assert bool(re.fullmatch(amount_pattern(maximum_paise=maximum), text)) is accepted


@given(st.integers(min_value=-(10**14), max_value=10**14))
def test_every_amount_on_output_matches_the_output_pattern(paise):
    assert re.fullmatch(OUTPUT_AMOUNT_PATTERN, format_paise(paise))


@given(EDGY_TEXT)
def test_the_not_blank_pattern_is_what_a_trimming_char_field_accepts(text):
    field = serializers.CharField()
    try:
        field.run_validation(text)
        accepted = True
    except serializers.ValidationError:
        accepted = False

    assert bool(re.fullmatch(not_blank_pattern(), text)) is accepted


@pytest.mark.parametrize("max_length", [1, 2, 3])
@given(text=EDGY_TEXT)
def test_a_length_bound_counts_what_remains_after_trimming(max_length, text):
    accepted = "\x00" not in text and 1 <= len(text.strip()) <= max_length

    assert bool(re.fullmatch(not_blank_pattern(max_length=max_length), text)) is accepted


EMAILS = (
    st.emails()
    | st.from_regex(EMAIL_PATTERN)
    | st.builds(
        "{}@{}".format,
        st.text(st.sampled_from('a.-"\\ @\x01\u0131\u0130\u017f\u212aé'), min_size=0, max_size=6),
        st.text(st.sampled_from("ab0.-xn é"), min_size=0, max_size=8) | st.just("localhost"),
    )
)


@given(EMAILS | EDGY_TEXT)
@example("0@0.a")  # a one-letter top-level domain
@example("a@b.c0")  # digits in a top-level domain
@example("a@xn--80ak6aa92e.com")
@example(" a@b.cc\t")
@example("\u017f@b.cc")
@example("\u0130@b.cc")
@example("a@[192.0.2.1]")
def test_the_email_pattern_is_what_django_accepts(text):
    try:
        validate_email(text.strip())
        accepted = True
    except DjangoValidationError:
        accepted = False

    matches = bool(re.fullmatch(EMAIL_PATTERN, text)) and len(text) <= 254  # its maxLength
    assert not matches or accepted  # what the schema allows, the server takes
    # What the server takes, the schema allows, but for what it leaves out on purpose: over
    # 254 characters (the column's length, checked elsewhere), an IP literal, a Unicode
    # domain, and a local part with U+0130 (registration lower-cases it into two characters,
    # the second of which Django refuses).
    local, _, domain = text.strip().rpartition("@")
    left_out = len(text) > 254 or "[" in domain or not domain.isascii() or "\u0130" in local
    assert matches or not accepted or left_out
