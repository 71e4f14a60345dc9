from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistConfig(AppConfig):
    name = "minyi.assist"
    verbose_name = _("Intake assistance")
