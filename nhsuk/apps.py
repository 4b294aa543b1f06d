from django.apps import AppConfig


class NHSUKConfig(AppConfig):
    name = "nhsuk"
