"""The patterns the OpenAPI schema states for registration accept what registration accepts,
the Verhoeff check digit aside (no pattern can compute it)."""

import re

from hypothesis import given
from hypothesis import strategies as st

from api.core.schema import stripped_pattern
from api.core.testing import EDGY_TEXT
from api.users import aadhaar
from api.users.apis import AADHAAR_SCHEMA_PATTERN
from api.users.services import PHONE_PATTERN


@given(EDGY_TEXT | st.from_regex(r"(\+91)?[5-9][0-9]{9}", fullmatch=True).map(lambda s: f" {s}\t"))
def test_the_phone_pattern_accepts_what_registration_accepts(text):
    value = text.strip()  # DRF trims the field before the service reads it
    accepted = "\x00" not in text and (not value or PHONE_PATTERN.fullmatch(value) is not None)

    pattern = stripped_pattern(f"(?:{PHONE_PATTERN.pattern})?")
    assert bool(re.fullmatch(pattern, text)) is accepted


@given(EDGY_TEXT | st.from_regex(r"[ 0-9]{10,16}", fullmatch=True))
def test_the_aadhaar_pattern_is_twelve_digits_once_spaces_are_removed(text):
    accepted = aadhaar.PATTERN.fullmatch(aadhaar.normalize(text)) is not None

    assert bool(re.fullmatch(AADHAAR_SCHEMA_PATTERN, text)) is accepted
