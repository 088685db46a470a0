from django.apps import AppConfig

from api.users import aadhaar


class UsersConfig(AppConfig):
    name = "api.users"
    label = "users"

    def ready(self) -> None:
        # Refuse to start with a malformed AADHAAR_KEYS or AADHAAR_INDEX_KEY rather than fail
        # at the first registration.
        aadhaar.key_ring()
