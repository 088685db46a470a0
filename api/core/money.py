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
