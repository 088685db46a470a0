"""Money is integer paise inside VaultPay and a two-decimal string outside it."""

import re

from django.core.exceptions import ImproperlyConfigured

# Amounts on input: ASCII digits only, no sign, no exponent, at most two decimals.
AMOUNT_PATTERN = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?", re.ASCII)


def parse_paise(text: object) -> int | None:
    """The amount in paise, or None when `text` is not a well-formed amount string."""
    if not isinstance(text, str) or not AMOUNT_PATTERN.fullmatch(text):
        return None
    rupees, _, fraction = text.partition(".")
    return int(rupees) * 100 + int(fraction.ljust(2, "0") or "0")


def format_paise(paise: int) -> str:
    sign = "-" if paise < 0 else ""
    rupees, fraction = divmod(abs(paise), 100)
    return f"{sign}{rupees}.{fraction:02d}"


def setting_paise(name: str, text: str) -> int:
    paise = parse_paise(text)
    if paise is None:
        raise ImproperlyConfigured(f"{name} must be an amount such as 1000.00, not {text!r}.")
    return paise


# Amounts on output: always two decimals; only the treasury's balance goes below zero.
OUTPUT_AMOUNT_PATTERN = r"^-?(0|[1-9][0-9]*)\.[0-9]{2}$"


def amount_pattern(*, maximum_paise: int) -> str:
    """The ECMA-262 pattern (for the OpenAPI schema) of exactly the amount strings that
    `parse_paise` reads as 0.01 to `maximum_paise` paise: `R`, `R.d` and `R.dd` forms, each
    bounded digit by digit (JSON Schema has no bounds for numbers written as strings)."""
    alternatives = []
    for decimals in (0, 1, 2):
        unit = 10 ** (2 - decimals)  # paise per step of the last digit written
        # With decimals, the digits written (without the dot) spell the amount in steps:
        # "0.5" is 5 steps of 10 paise; below one rupee a leading "0" is written.
        for digits in _natural_numbers(1, maximum_paise // unit, min_width=decimals + 1):
            if decimals:
                digits = [*digits[:-decimals], r"\.", *digits[-decimals:]]
            alternatives.append(_joined(digits))
    return f"^({'|'.join(alternatives)})$"


def _joined(classes: list[str]) -> str:
    """The classes as one pattern, runs of any digit written `[0-9]{n}`."""
    return re.sub(r"(?:\[0-9\]){2,}", lambda run: f"[0-9]{{{len(run[0]) // 5}}}", "".join(classes))


def _natural_numbers(low: int, high: int, *, min_width: int) -> list[list[str]]:
    """Digit-class sequences spelling each of low..high without leading zeros, but padded
    with zeros to `min_width` digits."""
    sequences = []
    for width in range(min_width, max(min_width, len(str(high))) + 1):
        floor = 10 ** (width - 1) if width > min_width else 0
        first, last = max(low, floor), min(high, 10**width - 1)
        if first <= last:
            sequences += _fixed_width(first, last, width)
    return sequences


def _fixed_width(low: int, high: int, width: int) -> list[list[str]]:
    """Digit-class sequences spelling each of low..high in exactly `width` digits."""
    if width == 0:
        return [[]]
    unit = 10 ** (width - 1)
    (head_low, tail_low), (head_high, tail_high) = divmod(low, unit), divmod(high, unit)
    if head_low == head_high:
        return [[str(head_low), *tail] for tail in _fixed_width(tail_low, tail_high, width - 1)]
    sequences = []
    if tail_low:
        sequences += [[str(head_low), *t] for t in _fixed_width(tail_low, unit - 1, width - 1)]
        head_low += 1
    full_high = head_high if tail_high == unit - 1 else head_high - 1
    if head_low <= full_high:
        head = str(head_low) if head_low == full_high else f"[{head_low}-{full_high}]"
        sequences.append([head, *["[0-9]"] * (width - 1)])
    if tail_high != unit - 1:
        sequences += [[str(head_high), *t] for t in _fixed_width(0, tail_high, width - 1)]
    return sequences
