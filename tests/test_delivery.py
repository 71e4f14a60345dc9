"""Telling the requester: e-mail through a real SMTP server started by the test (aiosmtpd), and
SMS through the provider interface; no number, address or reply text in the logs."""

from __future__ import annotations

import email
import logging
import socket

import pytest
from aiosmtpd.controller import Controller

from minyi.feedback.delivery import HttpSmsBackend
from minyi.feedback.models import Delivery
from minyi.privacy.policy import mask_email
from minyi.tickets.models import Reply

REPLY = "已联系物业公司，电梯主板已于11月3日更换并通过特种设备检测，恢复正常运行。"
ADDRESS = "li.si@example.com"


class Inbox:
    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.DEFAULT_FROM_EMAIL = "12345@minyi.example"
    yield inbox
    controller.stop()


def reply(actors, new_ticket, capture, **fields):
    from minyi.tickets import actions

    ticket = new_ticket("in_progress", **fields)
    with capture(execute=True):
        actions.reply(actors["handler"], ticket.pk, REPLY, outcome="resolved")
    return ticket


def test_the_reply_goes_out_by_smtp_with_the_rating_link(smtp, actors, new_ticket, django_capture_on_commit_callbacks, caplog):
    caplog.set_level(logging.DEBUG)
    ticket = reply(actors, new_ticket, django_capture_on_commit_callbacks, requester_email=ADDRESS)
    assert len(smtp.messages) == 1
    sender, recipients, raw = smtp.messages[0]
    assert (sender, recipients) == ("12345@minyi.example", [ADDRESS])
    message = email.message_from_bytes(raw)
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert ticket.number in subject
    body = message.get_payload(decode=True).decode("utf-8")
    assert REPLY in body and "/rate/" in body
    assert Delivery.objects.get(ticket=ticket, channel="email").state == "sent"
    # Our logs carry the ticket number only: never the phone, the address or the reply (the
    # test's own SMTP server, logger "mail.log", logs what it receives).
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    for secret in ("13800138000", ADDRESS, REPLY):
        assert secret not in ours


def test_a_failing_server_is_recorded_and_retried_without_personal_data(settings, actors, new_ticket, django_capture_on_commit_callbacks, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens there
    ticket = reply(actors, new_ticket, django_capture_on_commit_callbacks, requester_email=ADDRESS)
    row = Delivery.objects.get(ticket=ticket, channel="email")
    assert (row.state, row.error) == ("failed", "ConnectionRefusedError")
    assert row.attempts >= 1
    assert Delivery.objects.get(ticket=ticket, channel="sms").state == "sent"
    assert ADDRESS not in caplog.text and "13800138000" not in caplog.text


def test_the_development_sms_backend_masks_the_number(actors, new_ticket, django_capture_on_commit_callbacks, caplog):
    caplog.set_level(logging.INFO, logger="minyi.feedback.delivery")
    ticket = reply(actors, new_ticket, django_capture_on_commit_callbacks)
    assert "138****8000" in caplog.text and "13800138000" not in caplog.text
    assert ticket.number in caplog.text


def test_anonymous_requesters_without_contact_get_no_message(actors, new_ticket, django_capture_on_commit_callbacks):
    ticket = reply(actors, new_ticket, django_capture_on_commit_callbacks, anonymous=True, requester_name="",
                   contact_allowed=False, requester_email=ADDRESS)
    assert not Delivery.objects.filter(ticket=ticket).exists()


def test_merged_requesters_receive_the_reply_too(actors, org, new_ticket, django_capture_on_commit_callbacks):
    from django.core import mail

    from minyi.tickets import actions

    target = new_ticket("submitted", requester_email="first@example.com")
    duplicate = new_ticket("submitted", requester_email="second@example.com", requester_phone="13900139000")
    actions.merge(actors["dispatcher"], duplicate.pk, target.pk)
    actions.dispatch(actors["dispatcher"], target.pk, org["housing"].pk)
    actions.sign(actors["handler"], target.pk)
    with django_capture_on_commit_callbacks(execute=True):
        actions.reply(actors["handler"], target.pk, REPLY, outcome="resolved")
    assert sorted(m.to[0] for m in mail.outbox) == ["first@example.com", "second@example.com"]
    item = Reply.objects.get(ticket=target)
    assert sorted(Delivery.objects.filter(reply=item).values_list("ticket_id", "channel")) == sorted(
        [(target.pk, "email"), (target.pk, "sms"), (duplicate.pk, "email"), (duplicate.pk, "sms")]
    )


def test_the_http_sms_backend_posts_to_the_gateway(settings):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received = []

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append((self.headers["Authorization"], json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    settings.MINYI_SMS_URL = f"http://127.0.0.1:{server.server_address[1]}/send"
    settings.MINYI_SMS_TOKEN = "gateway-token"
    HttpSmsBackend().send("13800138000", "【12345】您的诉求已答复")
    thread.join(5)
    server.server_close()
    assert received == [("Bearer gateway-token", {"to": "13800138000", "text": "【12345】您的诉求已答复"})]


def test_masked_addresses():
    assert mask_email("li.si@example.com") == "l***@example.com"
    assert mask_email("broken") == "***"
