from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "api.core"
    label = "core"

    def ready(self) -> None:
        from api.core.metrics.store import flushing_start

        # Every process that records metrics adds them to Redis once a second.
        flushing_start()
