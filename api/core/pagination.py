"""Cursor pagination for every list: `{"results", "next", "previous"}`,
20 rows by default, `page_size` up to 100, and a 400 in the error envelope for an invalid
`page_size` or cursor where DRF would silently fall back or answer 404."""

import uuid
from datetime import UTC, datetime

from django.db.models import Q, QuerySet, Subquery
from django.utils.dateparse import parse_datetime
from rest_framework import pagination, serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from api.core.fields import DigitsIntegerField


def _position_parse(position: str | None) -> tuple[datetime, uuid.UUID]:
    """(created_at, uuid) from a cursor position; ValueError or OverflowError when forged."""
    if position is None:
        raise ValueError("no position")
    timestamp, _, public_id = position.partition("|")
    moment = parse_datetime(timestamp)  # ValueError for a well-formed but impossible date
    if moment is None or moment.tzinfo is None:
        raise ValueError(position)
    moment.astimezone(UTC)  # OverflowError at the ends of the calendar, before the database
    return moment, uuid.UUID(public_id)


class CursorPagination(pagination.CursorPagination):
    """Keyset pagination, newest first by (created_at, id), for models with a unique public
    `uuid` beside their internal `id`.

    DRF's own cursor holds only the first ordering field plus an offset among the rows that
    share it, and skips rows when a reader turns back across such a tie. This cursor holds
    one row's (created_at, uuid), a unique position, so pages follow one another exactly in
    both directions; the internal id stays out of the cursor, and the database finds it by
    uuid within the page's one query.
    """

    ordering = ("-created_at", "-id")  # the two fields `_beyond` compares
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    invalid_cursor_message = "Invalid cursor: follow the `next` and `previous` links as given."

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:  # a blank one is checked like any other value (a 400)
            return self.page_size
        field = DigitsIntegerField(min_value=1, max_value=self.max_page_size)
        try:
            return field.run_validation(raw)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({self.page_size_query_param: exc.detail}) from None

    def decode_cursor(self, request) -> pagination.Cursor | None:
        """The cursor, its position parsed; a 400 naming `cursor` when it is not one of ours."""
        try:
            cursor = super().decode_cursor(request)
            if cursor is None:
                return None
            return cursor._replace(offset=0, position=_position_parse(cursor.position))
        except (NotFound, ValueError, OverflowError):
            raise serializers.ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}
            ) from None

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.cursor = self.decode_cursor(request)
        backwards = self.cursor is not None and self.cursor.reverse
        if backwards:
            queryset = queryset.order_by(*(field.lstrip("-") for field in self.ordering))
        else:
            queryset = queryset.order_by(*self.ordering)
        if self.cursor is not None:
            queryset = queryset.filter(self._beyond(queryset, *self.cursor.position, backwards))
        rows = list(queryset[: self.page_size + 1])
        self.page = rows[: self.page_size]
        more = len(rows) > self.page_size
        if backwards:
            self.page.reverse()
        # A link is built from a row of this page, so an empty page (its rows left a filtered
        # view since the link was made) has none: the reader starts over.
        self.has_next = bool(self.page) and (backwards or more)
        self.has_previous = bool(self.page) and (more if backwards else self.cursor is not None)
        return self.page

    @staticmethod
    def _beyond(queryset: QuerySet, created_at: datetime, public_id: uuid.UUID, newer: bool) -> Q:
        """The rows after the cursor's row in the reading direction."""
        anchor = Subquery(queryset.model.objects.filter(uuid=public_id).values("id")[:1])
        if newer:
            return Q(created_at__gt=created_at) | Q(created_at=created_at, id__gt=anchor)
        return Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=anchor)

    def _link(self, row, *, reverse: bool) -> str:
        position = f"{row.created_at.isoformat()}|{row.uuid}"
        return self.encode_cursor(pagination.Cursor(offset=0, reverse=reverse, position=position))

    def get_next_link(self) -> str | None:
        return self._link(self.page[-1], reverse=False) if self.has_next else None

    def get_previous_link(self) -> str | None:
        return self._link(self.page[0], reverse=True) if self.has_previous else None

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(
                    minimum=1, maximum=self.max_page_size, default=self.page_size
                )
            elif parameter["name"] == self.cursor_query_param:
                # Opaque base64, valid only as found in a `next` or `previous` link.
                parameter["schema"]["pattern"] = "^[A-Za-z0-9+/]+={0,2}$"
        return parameters

    def get_paginated_response(self, data) -> Response:
        return Response(
            {"results": data, "next": self.get_next_link(), "previous": self.get_previous_link()}
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            **super().get_paginated_response_schema(schema),
            "required": ["results", "next", "previous"],
        }
