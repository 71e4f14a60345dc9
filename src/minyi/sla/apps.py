from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "minyi.sla"
    label = "sla"
