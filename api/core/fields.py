from rest_framework import serializers

from api.core.money import format_paise, parse_paise


class MoneyField(serializers.Field):
    """Money as the API has it: integer paise inside, a string outside.

    Output is always two decimals ("125.50"). Input must be a JSON string of rupees with at
    most two decimals; a JSON number, or any other shape, is refused rather than rounded.
    `maximum_setting` names the setting (in paise) that a service holds input amounts to,
    from 0.01 up; the OpenAPI schema states those bounds (api/core/schema.py).
    """

    default_error_messages = {
        "invalid": 'Send the amount as a string of rupees with at most two decimals, e.g. "125.50".'
    }

    def __init__(self, *, maximum_setting: str | None = None, **kwargs) -> None:
        self.maximum_setting = maximum_setting
        super().__init__(**kwargs)

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


class StringField(serializers.CharField):
    """A CharField that takes only a JSON string. DRF's own turns a number into its digits,
    so `"note": 5` would be stored as "5" although the schema says string."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class DocumentedCharField(StringField):
    """A CharField whose OpenAPI schema also states rules that a service checks after the
    serializer (a pattern, a format, a length), so that clients see them before sending.
    `schema` is merged into the field's generated schema (api/core/schema.py)."""

    def __init__(self, *, schema: dict, **kwargs) -> None:
        self.schema = schema
        super().__init__(**kwargs)
