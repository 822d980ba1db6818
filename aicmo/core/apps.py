from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "aicmo.core"
    label = "core"
    verbose_name = "AICMO core"
