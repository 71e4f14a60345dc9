from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "minyi.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from minyi.org import backends

        backends.connect()
