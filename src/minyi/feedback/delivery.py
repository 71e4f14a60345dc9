"""Telling the requester: the reply and a one-use rating link, by SMS and e-mail.

SMS goes through a provider interface (`SmsBackend`); e-mail through Django's mail framework
(SMTP in production). The development backends write a line to the log with the number or
address masked. Sending runs in the worker after the commit; each (ticket, reply, channel) is
one `Delivery` row, claimed by a conditional update, so a retried or doubled job sends once.
Log lines and stored errors carry ticket numbers, never numbers, addresses or reply text.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.request
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.module_loading import import_string
from huey.contrib.djhuey import db_task

from minyi.core import clock
from minyi.feedback.links import rating_url
from minyi.feedback.models import Delivery
from minyi.privacy.policy import mask_email, mask_phone
from minyi.tickets.models import Reply, Ticket

log = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Send `text` to `phone`; raise on failure (the job retries)."""


class LogSmsBackend:
    """Development: the message goes to the log, the number masked."""

    def send(self, phone: str, text: str) -> None:
        log.info("SMS (development backend) to %s: %s", mask_phone(phone), text)


class HttpSmsBackend:
    """A provider's HTTP gateway: POST {"to", "text"} as JSON with a bearer token to
    MINYI_SMS_URL (the carriers' and cloud SMS services' shape; adapt the body in a subclass)."""

    def send(self, phone: str, text: str) -> None:
        url = settings.MINYI_SMS_URL
        if not url.startswith(("https://", "http://")):
            raise RuntimeError("MINYI_SMS_URL is not set")
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            url, data=json.dumps({"to": phone, "text": text}).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings.MINYI_SMS_TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            if response.status >= 300:
                raise RuntimeError(f"SMS gateway answered {response.status}")


class LogEmailBackend(BaseEmailBackend):
    """Development: each message goes to the log (the address masked, links shown, no body)."""

    def send_messages(self, email_messages):
        for message in email_messages:
            links = re.findall(r"https?://\S+", message.body)
            log.info(
                "e-mail (development backend) to %s: %s %s",
                ", ".join(mask_email(a) for a in message.to), message.subject, " ".join(links),
            )
        return len(email_messages)


def sms_backend() -> SmsBackend:
    return import_string(settings.MINYI_SMS_BACKEND)()


# --- what is sent ----------------------------------------------------------------------------


def recipients(item: Reply) -> list[Ticket]:
    """Every requester who follows the replied ticket: its own and those merged into it."""
    return [item.ticket, *Ticket.objects.filter(merged_into_id=item.ticket_id).order_by("pk")]


def channels(ticket: Ticket) -> list[str]:
    found: list[str] = []
    if ticket.requester_phone:
        found.append(Delivery.Channel.SMS)
    if ticket.requester_email and not ticket.anonymous:
        found.append(Delivery.Channel.EMAIL)
    return found


def render(ticket: Ticket, item: Reply, channel: str) -> tuple[str, str]:
    """(subject, body) in the platform's language."""
    context = {
        "ticket": ticket, "reply": item, "rating_url": rating_url(ticket.pk, item.pk),
        "track_url": f"{settings.MINYI_PUBLIC_URL}/track/", "rating_due_at": item.ticket.rating_due_at,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("feedback/reply_subject.txt", context).strip()
        body = render_to_string(f"feedback/reply_{channel}.txt", context).strip()
    return subject, body


def reply_published(reply_id: int) -> None:
    """Called after the commit that published a reply."""
    deliver_reply(reply_id)


@db_task(retries=3, retry_delay=60)
def deliver_reply(reply_id: int) -> dict[str, int]:
    item = Reply.objects.select_related("ticket", "unit", "outcome").filter(pk=reply_id).first()
    counts = {"sent": 0, "failed": 0}
    if item is None:
        return counts
    failures = 0
    for ticket in recipients(item):
        for channel in channels(ticket):
            outcome = _deliver_one(ticket, item, channel)
            if outcome is not None:
                counts[outcome] += 1
                failures += outcome == "failed"
    if failures:
        raise RuntimeError(f"{failures} message(s) for reply {reply_id} failed; retrying")
    return counts


def _deliver_one(ticket: Ticket, item: Reply, channel: str) -> str | None:
    now = clock.now()
    try:
        with transaction.atomic():
            row, _created = Delivery.objects.get_or_create(
                ticket=ticket, reply=item, channel=channel, defaults={"created_at": now}
            )
    except IntegrityError:  # another worker created it at the same moment
        row = Delivery.objects.get(ticket=ticket, reply=item, channel=channel)
    claimed = Delivery.objects.filter(
        pk=row.pk, state__in=[Delivery.State.PENDING, Delivery.State.FAILED]
    ).update(state=Delivery.State.SENDING, attempts=row.attempts + 1)
    if not claimed:
        return None  # sent (or being sent) by another run
    subject, body = render(ticket, item, channel)
    try:
        if channel == Delivery.Channel.SMS:
            sms_backend().send(ticket.requester_phone, body)
        else:
            EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [ticket.requester_email]).send()
    except Exception as exc:  # noqa: BLE001 (any provider failure is retried)
        Delivery.objects.filter(pk=row.pk).update(state=Delivery.State.FAILED, error=type(exc).__name__[:200])
        log.warning("ticket %s: %s delivery failed (%s)", ticket.number, channel, type(exc).__name__)
        return "failed"
    Delivery.objects.filter(pk=row.pk).update(state=Delivery.State.SENT, sent_at=clock.now(), error="")
    log.info("ticket %s: reply sent by %s", ticket.number, channel)
    return "sent"
