from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "minyi.web"
    label = "web"
