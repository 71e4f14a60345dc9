"""Closing the loop: reviews of dissatisfied ratings (and the redos they order), and the
messages that carry a reply to the requester."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from minyi.org.models import Unit
from minyi.tickets.choices import ReviewDecision
from minyi.tickets.models import Reply, Ticket, TicketRating


class RatingReview(models.Model):
    """Platform staff's judgement of a dissatisfied rating (不满意审核): redo or close."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="reviews")
    rating = models.OneToOneField(TicketRating, on_delete=models.CASCADE, related_name="review")
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("unit"), help_text=_("The unit whose reply was rated (it redoes the ticket)."),
    )
    decision = models.CharField(_("decision"), max_length=8, choices=ReviewDecision.choices)
    explanation = models.TextField(_("explanation"))
    round = models.PositiveSmallIntegerField(_("redo round"), default=0)
    redo_due_at = models.DateTimeField(_("redo deadline"), null=True, blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"))

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = _("rating review")
        verbose_name_plural = _("rating reviews")
        indexes = [
            models.Index(fields=["unit", "decision"], name="review_unit_decision"),
            models.Index(fields=["decided_at"], include=["decision", "unit"], name="review_decided_cov"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.decision}"


class Delivery(models.Model):
    """One message to a requester about a reply (SMS or e-mail). Unique per reply, ticket and
    channel, so the delivery job may run twice or on two workers and still send once."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="deliveries")
    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(_("error"), max_length=200, blank=True, help_text=_("Never personal data."))
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "reply", "channel"], name="one_delivery_per_reply_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}/{self.reply_id}: {self.channel} {self.state}"
