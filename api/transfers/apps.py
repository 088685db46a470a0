from django.apps import AppConfig


class TransfersConfig(AppConfig):
    name = "api.transfers"
    label = "transfers"
