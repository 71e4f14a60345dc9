"""Time limits as data: holiday notices, time-limit policies, extensions and staged-closure plans."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from minyi.org.models import Category
from minyi.tickets.choices import RequestType
from minyi.tickets.models import Ticket


class HolidayNotice(models.Model):
    """The State Council's yearly notice of public holidays and make-up working days."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    source = models.URLField(_("source"), max_length=300, blank=True)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("holiday notice")
        verbose_name_plural = _("holiday notices")

    def __str__(self) -> str:
        return f"{self.year} {self.title}".strip()


class HolidayDay(models.Model):
    """A day the notice changes: a holiday off (even on a weekday) or a make-up working day."""

    notice = models.ForeignKey(HolidayNotice, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("holiday"), max_length=40)
    is_off_day = models.BooleanField(
        _("day off"), help_text=_("Off: a public holiday. Not off: a make-up working day (调休).")
    )

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday or make-up day")
        verbose_name_plural = _("holidays and make-up days")

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class TimeLimitPolicy(models.Model):
    """The time limit of a request type, optionally for one category (and its sub-categories)."""

    request_type = models.CharField(_("request type"), max_length=16, choices=RequestType.choices)
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("category"), help_text=_("Empty: every category without its own rule."),
    )
    working_days = models.PositiveSmallIntegerField(_("working days"))
    urgent_hours = models.PositiveSmallIntegerField(
        _("urgent: hours"), default=24,
        help_text=_("An urgent ticket must be signed for and acted on within these hours."),
    )

    class Meta:
        ordering = ["request_type", "category"]
        verbose_name = _("time-limit policy")
        verbose_name_plural = _("time-limit policies")
        constraints = [
            models.UniqueConstraint(fields=["request_type", "category"], name="one_policy_per_type_category"),
            models.UniqueConstraint(
                fields=["request_type"], condition=models.Q(category=None), name="one_default_policy_per_type"
            ),
            models.CheckConstraint(condition=models.Q(working_days__gte=1), name="policy_at_least_one_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_request_type_display()} {self.category or ''}: {self.working_days}"


class ExtensionReason(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("extension reason")
        verbose_name_plural = _("extension reasons")

    def __str__(self) -> str:
        return self.name


class Decision(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Extension(models.Model):
    """A unit's application for more time (延期), decided by a supervisor."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="extensions")
    reason = models.ForeignKey(ExtensionReason, on_delete=models.PROTECT, related_name="+")
    working_days = models.PositiveSmallIntegerField(_("working days needed"))
    explanation = models.TextField(_("explanation"))
    status = models.CharField(max_length=16, choices=Decision.choices, default=Decision.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    old_due_at = models.DateTimeField(null=True, blank=True)
    new_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=models.Q(status="pending"), name="one_pending_extension_per_ticket"
            ),
            models.CheckConstraint(condition=models.Q(working_days__gte=1), name="extension_at_least_one_day"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: +{self.working_days} ({self.status})"


class StagedPlan(models.Model):
    """A plan for staged closure (阶段性办结): dated milestones the ticket is tracked against."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="plans")
    explanation = models.TextField(_("explanation to the requester"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("staged-closure plan")
        verbose_name_plural = _("staged-closure plans")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=models.Q(status__in=["pending", "approved"]),
                name="one_live_plan_per_ticket",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: plan ({self.status})"


class Milestone(models.Model):
    plan = models.ForeignKey(StagedPlan, on_delete=models.CASCADE, related_name="milestones")
    seq = models.PositiveSmallIntegerField()
    title = models.CharField(_("milestone"), max_length=200)
    due_date = models.DateField(_("due date"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    evidence = models.TextField(_("evidence"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["plan", "seq"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        constraints = [models.UniqueConstraint(fields=["plan", "seq"], name="milestone_seq_unique")]
        indexes = [models.Index(fields=["due_date", "done_at"], name="milestone_due")]

    def __str__(self) -> str:
        return f"{self.seq}. {self.title} ({self.due_date})"


class SlaAlert(models.Model):
    """A deadline warning sent once per ticket, kind and deadline (the job's idempotency key)."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("Due soon")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("deadline alert")
        verbose_name_plural = _("deadline alerts")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind", "due_at"], name="one_alert_per_deadline"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.kind} {self.due_at}"
