from django.apps import AppConfig


class TransfersConfig(AppConfig):
    name = "api.transfers"
    label = "transfers"

    def ready(self) -> None:
        from api.transfers.receivers import events_push
        from api.transfers.signals import events_committed

        events_committed.connect(events_push, dispatch_uid="realtime-events-push")
