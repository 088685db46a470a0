from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class NestingSafeJsonParser(JSONParser):
    """DRF's JSON parser, with a body nested deeper than Python's recursion limit (a 64 KiB
    body of `[` is enough) answered 400 `malformed_request` like any other bad JSON, not 500:
    DRF turns only ValueError into a parse error, and the decoder raises RecursionError.

    Bodies are UTF-8, whatever charset the Content-Type names: JSON exchanged between systems
    is UTF-8 (RFC 8259), and the transfer hot path decodes nothing else."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = {**(parser_context or {}), "encoding": "utf-8"}
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply") from exc
