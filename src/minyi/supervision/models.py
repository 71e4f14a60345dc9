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
        MANUAL = "manual", _("Opened by a supervisor")
        QUALITY = "quality", _("Reply quality")

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
    reason = models.TextField(_("reason"), blank=True, help_text=_("Why a supervisor opened it (manual and quality orders)."))
    answer = models.TextField(_("unit's answer"), blank=True)
    answered_at = models.DateTimeField(
        _("answered at"), null=True, blank=True,
        help_text=_("The unit's answer at the current level; an answered order does not escalate."),
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
    )
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
            models.Index(fields=["opened_at"], name="order_opened_at"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.cause} L{self.level} ({self.status})"


class ReplyScreening(models.Model):
    """The quality screening of one reply (质量筛查): scored when submitted, rescanned nightly.
    A flagged reply waits for a supervisor, who confirms it (a quality order, a new reply) or
    dismisses it."""

    class State(models.TextChoices):
        CLEAN = "clean", _("No finding")
        FLAGGED = "flagged", _("Flagged, awaiting a supervisor")
        CONFIRMED = "confirmed", _("Confirmed: new reply asked for")
        DISMISSED = "dismissed", _("Dismissed")

    reply = models.OneToOneField("tickets.Reply", on_delete=models.CASCADE, related_name="screening")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="screenings")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    relevance = models.FloatField(_("relevance"))
    findings = models.JSONField(_("findings"), default=list, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.CLEAN)
    screened_at = models.DateTimeField(_("screened at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    order = models.ForeignKey(
        SupervisionOrder, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-screened_at", "-id"]
        verbose_name = _("reply screening")
        verbose_name_plural = _("reply screenings")
        indexes = [models.Index(fields=["state", "screened_at"], name="screening_state_time")]

    def __str__(self) -> str:
        return f"{self.reply_id}: {self.state}"
