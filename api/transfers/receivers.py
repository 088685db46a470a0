"""Realtime delivery of committed events: `events_committed` (sent after the commit that
stored them) -> `realtime.send`. Connected in TransfersConfig.ready()."""

from api.transfers.models import Event
from api.transfers.payloads import event_message
from realtime.send import messages_send


def events_push(sender, *, events: list[Event], **kwargs) -> None:
    """Publishes each committed event to its user's sockets, each user's in seq order.
    Delivery is at most once; sockets fill any gap from the stored events."""
    messages_send(
        messages=[
            (
                event.user_id,
                event_message(event_type=event.type, seq=event.seq, payload=event.payload),
            )
            for event in events
        ]
    )
