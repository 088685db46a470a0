from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "api.users"
    label = "users"
