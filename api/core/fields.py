from rest_framework import serializers

from api.core.money import parse_paise


class AmountField(serializers.Field):
    """Money on input (contract section 2): a JSON string such as "125.50", read as integer
    paise. A JSON number, or any other shape, is refused rather than rounded or coerced."""

    default_error_messages = {
        "invalid": 'Send the amount as a string of rupees with at most two decimals, e.g. "125.50".'
    }

    def to_internal_value(self, data) -> int:
        paise = parse_paise(data)
        if paise is None:
            self.fail("invalid")
        return paise

    def to_representation(self, value):
        raise NotImplementedError("AmountField is for input only")
