"""What realtime does when the domain announces a commit (connected in RealtimeConfig.ready()):
committed events go to their users' sockets, and a deactivated user's sockets are closed."""

from api.transfers.payloads import event_message
from realtime.send import messages_send, user_sockets_close

# The dispatch uids of the connections, so that a test can disconnect one.
EVENTS_PUSH = "realtime-events-push"
SOCKETS_CLOSE = "realtime-sockets-close"


def events_push(sender, *, events: list, **kwargs) -> None:
    """`events_committed`: publishes each committed event (an Event row) to its user's
    sockets, each user's in seq order. Delivery is at most once; sockets fill any gap from the
    stored events."""
    messages_send(
        messages=[
            (
                event.user_id,
                event_message(event_type=event.type, seq=event.seq, payload=event.payload),
            )
            for event in events
        ]
    )


def sockets_close(sender, *, user_ids: list, **kwargs) -> None:
    """`users_deactivated`: closes every open socket of these users with 4401."""
    user_sockets_close(user_ids=user_ids)
