"""The audit of every reveal of personal data (who, when, which ticket, which field, why)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from minyi.tickets.models import AppendOnlyQuerySet, Ticket


class Reveal(models.Model):
    """One request to see a personal value in clear: granted or refused. Never updated or
    deleted; the value itself is never stored here."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="reveals")
    field = models.CharField(_("field"), max_length=24)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=24, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    granted = models.BooleanField(_("granted"))
    refusal = models.CharField(_("refused because"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("at"), db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("personal data reveal")
        verbose_name_plural = _("personal data reveals")
        indexes = [models.Index(fields=["ticket", "created_at"], name="reveal_ticket_time")]

    def __str__(self) -> str:
        return f"{self.ticket_id}.{self.field} by {self.user_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("reveals are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("reveals are append-only")
