"""Routing rules as data (分拨规则): which unit leads a category of request in a place."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from minyi.org.models import Category, Region, Unit


class RoutingRule(models.Model):
    """Category (and its sub-categories) × optional district / street → lead and assisting units.

    The most specific match wins: a rule for the ticket's street over one for its district over
    one for anywhere; then the higher priority; then the nearer category (see `routing.resolve`).
    """

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="routing_rules", verbose_name=_("category"),
        help_text=_("Matches this category and all its sub-categories."),
    )
    district = models.ForeignKey(
        Region, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        limit_choices_to={"kind": Region.Kind.DISTRICT}, verbose_name=_("district"),
        help_text=_("Empty: any district."),
    )
    street = models.ForeignKey(
        Region, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        limit_choices_to={"kind": Region.Kind.STREET}, verbose_name=_("street"),
        help_text=_("Empty: any street."),
    )
    lead_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("lead unit")
    )
    assisting_units = models.ManyToManyField(
        Unit, blank=True, related_name="+", verbose_name=_("assisting units")
    )
    priority = models.IntegerField(
        _("priority"), default=0, help_text=_("Among equally specific rules, the higher priority wins.")
    )
    active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["category__code", "-priority", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        place = self.street or self.district or _("anywhere")
        return f"{self.category} · {place} → {self.lead_unit}"

    def clean(self) -> None:
        if self.street_id and self.district_id and self.street and self.street.parent_id != self.district_id:
            raise ValidationError({"street": _("The street is not in the district.")})
