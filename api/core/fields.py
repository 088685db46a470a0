from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.core.money import format_paise, parse_paise


@extend_schema_field(OpenApiTypes.STR)
class MoneyField(serializers.Field):
    """Money as the API has it: integer paise inside, a string outside.

    Output is always two decimals ("125.50"). Input must be a JSON string of rupees with at
    most two decimals; a JSON number, or any other shape, is refused rather than rounded.
    """

    default_error_messages = {
        "invalid": 'Send the amount as a string of rupees with at most two decimals, e.g. "125.50".'
    }

    def to_internal_value(self, data) -> int:
        paise = parse_paise(data)
        if paise is None:
            self.fail("invalid")
        return paise

    def to_representation(self, value: int) -> str:
        return format_paise(value)


class DigitsIntegerField(serializers.IntegerField):
    """A whole number in a query string, written in ASCII digits only: "20", not "+20",
    " 20", "2e1" or non-ASCII digits, which `int()` would otherwise accept."""

    def to_internal_value(self, data) -> int:
        if not (isinstance(data, str) and data.isascii() and data.isdigit()):
            self.fail("invalid")
        return super().to_internal_value(data)
