"""The history's `from` and `to` as the OpenAPI schema states them (a `date` format and a
pattern) are exactly the dates the server accepts."""

import re
from datetime import date

from hypothesis import example, given
from hypothesis import strategies as st
from rest_framework import serializers

from api.transfers.apis.history import ISO_DATE_SCHEMA_PATTERN, IsoDateField


def _is_calendar_date(text: str) -> bool:
    """RFC 3339's full-date, the `date` format: YYYY-MM-DD naming a day (year 0000 too)."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return False
    year, month, day = (int(part) for part in text.split("-"))
    try:
        date(year or 2000, month, day)  # 0000 is a leap year, like 2000
    except ValueError:
        return False
    return True


@given(
    st.dates().map(date.isoformat)
    | st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True)
    | st.text(max_size=12)
)
@example("0000-02-29")
@example("0001-01-01")
@example("9999-12-31")
@example("2026-02-29")
def test_the_date_schema_is_exactly_the_dates_accepted(text):
    try:
        IsoDateField().run_validation(text)
        accepted = True
    except serializers.ValidationError:
        accepted = False

    documented = _is_calendar_date(text) and re.fullmatch(ISO_DATE_SCHEMA_PATTERN, text)
    assert bool(documented) is accepted
