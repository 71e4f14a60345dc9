"""Virtual numbers (云呼, AXB): the pool, each handler's line, the bindings of requester A and
handler B to a number X, and the calls made through them (never their numbers).
See docs/adr/0009-virtual-numbers.md."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from minyi.org.models import Unit
from minyi.privacy.fields import EncryptedTextField
from minyi.privacy.policy import mask_phone
from minyi.tickets.models import Ticket

LOCAL = "local"


class VirtualNumber(models.Model):
    """A number X of the pool. `local` numbers are routed by Minyi's SIP redirect server (the
    switch asks it where a call to X goes); a carrier's numbers by the carrier's platform, which
    Minyi tells of each binding through its AXB API (`minyi.calls.providers`)."""

    number = models.CharField(_("number"), max_length=20, unique=True, help_text=_("Digits only, national form."))
    provider = models.CharField(
        _("provider"), max_length=32, default=LOCAL,
        help_text=_("“local” for the platform's own pool (SIP redirect server), or the carrier's name."),
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive numbers get no new bindings; current ones run out."),
    )
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("virtual number")
        verbose_name_plural = _("virtual numbers")

    def __str__(self) -> str:
        return self.number


class HandlerLine(models.Model):
    """The phone a handler (or unit leader) answers and calls from: party B of their bindings.
    The administrator keeps it; it is never shown to requesters."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="call_line", verbose_name=_("user"),
    )
    phone = EncryptedTextField(_("phone"))  # sealed at rest (ADR 10)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("handler's line")
        verbose_name_plural = _("handlers' lines")

    def __str__(self) -> str:
        return f"{self.user}: {mask_phone(self.phone)}"


class EndReason(models.TextChoices):
    EXPIRED = "expired", _("Time ran out")
    TICKET_CLOSED = "ticket_closed", _("The ticket closed")
    TICKET_MERGED = "ticket_merged", _("The ticket was merged")
    UNIT_CHANGED = "unit_changed", _("The ticket went to another unit")
    PARTIES_CHANGED = "parties_changed", _("A phone number changed")


class Binding(models.Model):
    """Requester A and handler B bound to virtual number X from `created_at` until `expires_at`
    or until it ends (`ended_at`, `end_reason`). Live bindings are `active` and not expired;
    the periodic job (`tasks.bindings_job`) ends expired ones and those of closed tickets."""

    number = models.ForeignKey(
        VirtualNumber, on_delete=models.PROTECT, related_name="bindings", verbose_name=_("virtual number"),
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="call_bindings", verbose_name=_("ticket"))
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("handler"),
    )
    handler_role = models.CharField(max_length=24)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"),
        help_text=_("The lead unit when bound; the binding ends if the ticket goes to another unit."),
    )
    # A (the requester) and B (the handler), digits in national form, sealed at rest (ADR 10).
    # Nothing filters on them in SQL: routing and the AXB rule compare them in Python.
    party_a = EncryptedTextField(_("requester's number (A)"))
    party_b = EncryptedTextField(_("handler's number (B)"))
    provider = models.CharField(_("provider"), max_length=32, default=LOCAL)
    provider_ref = models.CharField(
        _("provider's reference"), max_length=64, blank=True, help_text=_("The carrier's binding id, if any."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("bound at"))
    expires_at = models.DateTimeField(_("expires at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=16, choices=EndReason.choices, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("binding")
        verbose_name_plural = _("bindings")
        indexes = [
            models.Index(fields=["number", "active"], name="binding_number_active"),
            models.Index(fields=["active", "expires_at"], name="binding_active_expires"),
            models.Index(fields=["ticket", "active"], name="binding_ticket_active"),
        ]
        constraints = [
            # Pressing "call" again while bound returns the same binding: one per handler and ticket.
            models.UniqueConstraint(
                fields=["ticket", "handler"], condition=models.Q(active=True), name="one_active_binding_per_handler",
            ),
            models.CheckConstraint(
                condition=(models.Q(active=True) & models.Q(ended_at__isnull=True) & models.Q(end_reason=""))
                | (models.Q(active=False) & models.Q(ended_at__isnull=False) & models.Q(end_reason__in=EndReason.values)),
                name="binding_ended_consistently",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.number_id}"


class CallDirection(models.TextChoices):
    B_TO_A = "b_to_a", _("Handler called the requester")
    A_TO_B = "a_to_b", _("Requester called the handler")


class CallerRole(models.TextChoices):
    HANDLER = "handler", _("Handler")
    REQUESTER = "requester", _("Requester")


class CallResult(models.TextChoices):
    ROUTED = "routed", _("Put through (end not reported yet)")
    ANSWERED = "answered", pgettext_lazy("phone call", "Answered")
    NO_ANSWER = "no_answer", _("Not answered")
    BUSY = "busy", _("Busy")
    FAILED = "failed", _("Failed")


class CallRecord(models.Model):
    """One call through a binding: who called, when, how long. Never a telephone number."""

    Direction = CallDirection
    Caller = CallerRole
    Result = CallResult

    binding = models.ForeignKey(Binding, on_delete=models.CASCADE, related_name="calls", verbose_name=_("binding"))
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="calls", verbose_name=_("ticket"))
    direction = models.CharField(_("direction"), max_length=8, choices=CallDirection.choices)
    caller_role = models.CharField(_("caller"), max_length=12, choices=CallerRole.choices)
    call_ref = models.CharField(
        max_length=64, blank=True, editable=False,
        help_text=_("SHA-256 of the switch's or carrier's call id, to match the end of the call."),
    )
    started_at = models.DateTimeField(_("started at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=12, choices=CallResult.choices, default=CallResult.ROUTED)

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.UniqueConstraint(fields=["call_ref"], condition=~models.Q(call_ref=""), name="one_record_per_call"),
            models.CheckConstraint(condition=models.Q(direction__in=CallDirection.values), name="call_direction_valid"),
            models.CheckConstraint(condition=models.Q(result__in=CallResult.values), name="call_result_valid"),
        ]
        indexes = [models.Index(fields=["ticket", "started_at"], name="call_ticket_started")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.direction} {self.started_at:%Y-%m-%d %H:%M}"
