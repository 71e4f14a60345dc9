"""Supervision orders (督办): a record of its own that points at a ticket and escalates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from minyi.org.models import Unit
from minyi.sla.models import Milestone
from minyi.tickets.models import Ticket


class SupervisionLevel(models.Model):
    """One rung of the escalation ladder, as data: reminder → formal notice → unit leader → public list."""

    level = models.PositiveSmallIntegerField(_("level"), unique=True)
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    response_working_days = models.PositiveSmallIntegerField(
        _("working days to respond"), help_text=_("The order's own deadline at this level.")
    )

    class Meta:
        ordering = ["level"]
        verbose_name = _("supervision level")
        verbose_name_plural = _("supervision levels")

    def __str__(self) -> str:
        return f"{self.level}. {self.name}"


class SupervisionOrder(models.Model):
    class Cause(models.TextChoices):
        OVERDUE = "overdue", _("Ticket overdue")
        MILESTONE_MISSED = "milestone_missed", _("Milestone missed")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="supervision_orders")
    cause = models.CharField(_("cause"), max_length=24, choices=Cause.choices)
    milestone = models.ForeignKey(
        Milestone, on_delete=models.CASCADE, null=True, blank=True, related_name="supervision_orders"
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="supervision_orders",
        verbose_name=_("supervised unit"),
    )
    level = models.PositiveSmallIntegerField(_("level"), default=1)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened at"))
    due_at = models.DateTimeField(_("respond by"))
    escalated_at = models.DateTimeField(_("last escalated at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.CharField(_("closed because"), max_length=200, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text=_("Empty: opened automatically by the platform."),
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")
        constraints = [
            # The periodic job may run on several workers at once: the database keeps one open
            # order per cause (NULL milestones are distinct in a unique index, hence two rules).
            models.UniqueConstraint(
                fields=["ticket", "cause"],
                condition=models.Q(status="open", milestone=None),
                name="one_open_order_per_ticket_cause",
            ),
            models.UniqueConstraint(
                fields=["milestone"],
                condition=models.Q(status="open") & ~models.Q(milestone=None),
                name="one_open_order_per_milestone",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="order_status_due"),
            models.Index(fields=["unit", "status"], name="order_unit_status"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.cause} L{self.level} ({self.status})"
