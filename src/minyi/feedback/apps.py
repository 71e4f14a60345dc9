from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "minyi.feedback"
    label = "feedback"
    verbose_name = _("Replies and ratings")
