"""The organisation as data: regions, handling units, categories and staff."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Staff roles. Each is a Django auth group of the same name (created by a migration)."""

    INTAKE_AGENT = "intake_agent", _("Intake agent")
    DISPATCHER = "dispatcher", _("Dispatcher")
    HANDLER = "handler", _("Unit handler")
    UNIT_LEADER = "unit_leader", _("Unit leader")
    SUPERVISOR = "supervisor", _("Supervisor")
    CITY_LEADER = "city_leader", _("City leader")
    ADMIN = "admin", _("Administrator")


#: Roles that work for one handling unit and see only its tickets.
UNIT_ROLES = frozenset({Role.HANDLER, Role.UNIT_LEADER})
#: Roles that see every ticket of the city.
CITY_WIDE_ROLES = frozenset(
    {Role.INTAKE_AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.CITY_LEADER, Role.ADMIN}
)


class Region(models.Model):
    """The gazetteer: districts and their streets (街道)."""

    class Kind(models.TextChoices):
        DISTRICT = "district", _("District")
        STREET = "street", _("Street")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="region_unique_name_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """A handling unit: a city bureau, a district, a street office, a community."""

    class Kind(models.TextChoices):
        PLATFORM = "platform", _("Platform (12345 centre)")
        CITY_BUREAU = "city_bureau", _("City bureau")
        DISTRICT = "district", _("District government")
        DISTRICT_BUREAU = "district_bureau", _("District bureau")
        STREET = "street", _("Street office")
        COMMUNITY = "community", _("Community")
        ENTERPRISE = "enterprise", _("Public service enterprise")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent unit"),
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="units",
        verbose_name=_("region"), help_text=_("The district or street this unit governs, if any."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("handling unit")
        verbose_name_plural = _("handling units")

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A node of the 2–3 level category tree, with its usual request type and unit."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent"),
    )
    level = models.PositiveSmallIntegerField(_("level"), default=1, editable=False)
    default_type = models.CharField(
        _("usual request type"), max_length=16, blank=True,
        choices=[
            ("consultation", _("Consultation")),
            ("help", _("Help")),
            ("suggestion", _("Suggestion")),
            ("complaint", _("Complaint")),
            ("report", _("Report")),
        ],
    )
    default_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("usual handling unit"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=3), name="category_level_1_to_3"),
        ]

    def __str__(self) -> str:
        return self.path

    def save(self, *args, **kwargs):
        self.level = 1 if self.parent is None else self.parent.level + 1
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.parent is not None and self.parent.level >= 3:
            raise ValidationError({"parent": _("The category tree has at most three levels.")})


    @property
    def path(self) -> str:
        names = [self.name]
        node = self.parent
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))


class StaffProfile(models.Model):
    """What a staff user is beyond Django's user: the unit they work for."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile",
        verbose_name=_("user"),
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="staff",
        verbose_name=_("unit"),
    )
    display_name = models.CharField(_("display name"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()


class ApiToken(models.Model):
    """A bearer token for the REST API; only its SHA-256 is stored."""

    key_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"token of user {self.user_id}"
