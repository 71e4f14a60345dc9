from django.apps import AppConfig


class GenerateConfig(AppConfig):
    name = "minyi.generate"
    label = "generate"
    verbose_name = "Data generator"
