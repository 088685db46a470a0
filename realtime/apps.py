from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """Realtime is an adapter above the domain: the domain announces commits through signals
    it owns, and knows nothing of who listens; realtime subscribes here."""

    name = "realtime"
    label = "realtime"

    def ready(self) -> None:
        from api.transfers.signals import events_committed
        from api.users.signals import users_deactivated
        from realtime.receivers import EVENTS_PUSH, SOCKETS_CLOSE, events_push, sockets_close

        events_committed.connect(events_push, dispatch_uid=EVENTS_PUSH)
        users_deactivated.connect(sockets_close, dispatch_uid=SOCKETS_CLOSE)
