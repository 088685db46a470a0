"""The Idempotency-Key pattern the OpenAPI schema states accepts exactly the keys the server
accepts (Python's `re` reads it as ECMA-262 does)."""

import re

from hypothesis import example, given
from hypothesis import strategies as st

from api.core.exceptions import ApplicationError
from api.transfers.idempotency import KEY_SCHEMA_PATTERN, idempotency_key_parse


def _key_accepted(header: str) -> bool:
    try:
        idempotency_key_parse(header)
    except ApplicationError:
        return False
    return True


@given(
    st.text(st.sampled_from('"!#~ a\x7f\x00é'), max_size=12).map(lambda s: s * 30)
    | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7F), max_size=260)
)
@example('"abcdefg"')  # quoted: 7 characters, too short
@example('"abcdefgh"')
@example('"' + "k" * 255 + '"')
@example('"' + "k" * 256 + '"')
@example('"abcdefgh')  # one quote: taken as it is
@example("k" * 255)
@example("k" * 256)
def test_the_idempotency_key_pattern_is_exactly_the_keys_accepted(header):
    assert bool(re.fullmatch(KEY_SCHEMA_PATTERN, header)) is _key_accepted(header)
