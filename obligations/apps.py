from django.apps import AppConfig


class ObligationsConfig(AppConfig):
    name = "obligations"
    verbose_name = "Organizations and obligations"

    def ready(self):
        from . import handlers  # noqa: F401 (connects the receivers)
