"""POST /api/v1/tickets: the public channel, staff intake, attachments, and every refusal."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import assert_error, submission_data
from minyi.core import clock
from minyi.tickets.codes import hash_access_code
from minyi.tickets.models import Attachment, Ticket, TicketEvent

URL = "/api/v1/tickets"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"


def post_json(client, data, **headers):
    return client.post(URL, data, content_type="application/json", **headers)


def test_anonymous_public_submission(api_client, org):
    data = submission_data(org, anonymous=True, contact_allowed=False, type="consultation",
                           category_id=org["bus"].pk)
    response = post_json(api_client, data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "number", "access_code", "status", "due_at"}
    ticket = Ticket.objects.get(pk=body["id"])
    assert body["number"] == ticket.number
    assert re.fullmatch(r"\d{8}-\d{6}", body["number"])
    assert body["status"] == "submitted"
    assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}", body["access_code"])
    assert ticket.access_code_hash == hash_access_code(body["access_code"])
    assert dt.datetime.fromisoformat(body["due_at"]) == ticket.due_at
    # The public channel is always `api`; an anonymous requester keeps no identity.
    assert (ticket.channel, ticket.anonymous, ticket.created_by) == ("api", True, None)
    assert (ticket.requester_name, ticket.requester_phone) == ("", "")
    assert ticket.type == "consultation"
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.kind, event.actor, event.actor_role, event.to_status) == ("submit", None, "public", "submitted")


def test_the_public_cannot_choose_the_channel(api_client, org):
    response = post_json(api_client, submission_data(org, channel="hotline"))
    assert response.status_code == 201
    assert Ticket.objects.get().channel == "api"


def test_named_public_submission_keeps_the_contact(api_client, org):
    response = post_json(api_client, submission_data(org))
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert (ticket.requester_name, ticket.requester_phone, ticket.contact_allowed) == ("张三", "13800138000", True)


def test_urgent_deadline_is_24_hours(api_client, org):
    moment = dt.datetime(2026, 10, 1, 2, 0, tzinfo=dt.UTC)
    with clock.frozen_at(moment):
        response = post_json(api_client, submission_data(org, urgent=True))
    assert response.status_code == 201
    assert dt.datetime.fromisoformat(response.json()["due_at"]) == moment + dt.timedelta(hours=24)


def test_deadline_follows_the_holiday_calendar(api_client, org):
    # 10:00 on Wednesday 30 September 2026 in Shenzhen; a complaint has 15 working days.
    with clock.frozen_at(dt.datetime(2026, 9, 30, 2, 0, tzinfo=dt.UTC)):
        response = post_json(api_client, submission_data(org))
    due = dt.datetime.fromisoformat(response.json()["due_at"])
    assert due == dt.datetime(2026, 10, 27, 15, 59, 59, tzinfo=dt.UTC)  # 23:59:59 in Shenzhen
    assert response.json()["number"] == "20260930-000001"


def test_staff_intake_on_the_hotline(api, org, users):
    response = api("post", URL, "agent", submission_data(org, channel="hotline"))
    assert response.status_code == 201
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert (ticket.channel, ticket.created_by) == ("hotline", users["agent"])
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.actor, event.actor_role, event.data) == (
        users["agent"], "intake_agent", {"channel": "hotline", "attachments": 0}
    )


def test_staff_intake_without_a_channel_is_api(api, org):
    response = api("post", URL, "dispatcher", submission_data(org))
    assert response.status_code == 201
    assert Ticket.objects.get().channel == "api"


def test_multipart_with_attachments(api_client, org):
    data = submission_data(org, anonymous="true", contact_allowed="false")
    data["attachments"] = [
        SimpleUploadedFile("现场照片.png", PNG, content_type="image/png"),
        SimpleUploadedFile("物业回复.pdf", PDF, content_type="application/pdf"),
    ]
    response = api_client.post(URL, data)  # multipart/form-data
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.anonymous is True
    assert ticket.requester_name == ""
    assert list(Attachment.objects.filter(ticket=ticket).values_list("name", "content_type", "size")) == [
        ("现场照片.png", "image/png", len(PNG)),
        ("物业回复.pdf", "application/pdf", len(PDF)),
    ]
    assert TicketEvent.objects.get(ticket=ticket).data == {"channel": "api", "attachments": 2}


def test_staff_multipart_on_the_hotline(api_client, org, token_for):
    data = submission_data(org, channel="hotline")
    data["attachments"] = SimpleUploadedFile("a.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 32)
    response = api_client.post(URL, data, **token_for("agent"))
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get()
    assert ticket.channel == "hotline"
    assert ticket.attachments.get().content_type == "image/jpeg"


def test_the_attachment_appears_on_the_ticket(api_client, api, org):
    data = submission_data(org)
    data["attachments"] = SimpleUploadedFile("a.png", PNG)
    ticket_id = api_client.post(URL, data).json()["id"]
    attachments = api("get", f"{URL}/{ticket_id}", "dispatcher").json()["attachments"]
    token = Attachment.objects.get().token
    assert attachments == [
        {"id": Attachment.objects.get().pk, "name": "a.png", "content_type": "image/png",
         "size": len(PNG), "url": f"/api/v1/tickets/{ticket_id}/attachments/{token}"}
    ]


def test_attachment_download_is_checked_like_its_ticket(api_client, api, org, new_ticket):
    data = submission_data(org)
    data["attachments"] = SimpleUploadedFile("a.png", PNG)
    ticket_id = api_client.post(URL, data).json()["id"]
    url = api("get", f"{URL}/{ticket_id}", "dispatcher").json()["attachments"][0]["url"]

    response = api("get", url, "dispatcher")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"

    assert_error(api("get", url, None), 401, "not_authenticated")
    # A unit that does not hold the ticket may not learn the file exists.
    assert_error(api("get", url, "other_handler"), 404, "ticket_not_found")
    # The token must belong to the ticket named in the path.
    other = new_ticket()
    token = url.rsplit("/", 1)[1]
    assert_error(api("get", f"{URL}/{other.pk}/attachments/{token}", "dispatcher"), 404, "attachment_not_found")
    assert_error(api("get", f"{URL}/{ticket_id}/attachments/nope", "dispatcher"), 404, "attachment_not_found")


# --- refusals: 422 with code and field, nothing created ---------------------------------------

VALID_CREDIT_CODE = "91350100M000100Y43"


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"title": ""}, "required", "title"),
        ({"title": "长" * 101}, "too_long", "title"),
        ({"text": ""}, "required", "text"),
        ({"text": "太短"}, "text_too_short", "text"),
        ({"type": "praise"}, "invalid_type", "type"),
        ({"type": None}, "required", "type"),
        ({"category_id": 999999}, "invalid_category", "category_id"),
        ({"category_id": "x"}, "invalid_category", "category_id"),
        ({"district": "440399"}, "invalid_district", "district"),
        ({"street": "粤海街道"}, "invalid_street", "street"),
        ({"requester_name": ""}, "required", "requester_name"),
        ({"requester_phone": "12345"}, "invalid_phone", "requester_phone"),
        ({"requester_phone": ""}, "required", "requester_phone"),
        ({"requester_kind": "enterprise", "enterprise_name": "某公司",
          "enterprise_credit_code": VALID_CREDIT_CODE[:17] + "0"}, "invalid_credit_code", "enterprise_credit_code"),
        ({"requester_kind": "alien"}, "invalid_requester_kind", "requester_kind"),
        ({"latitude": 91}, "invalid_coordinates", "latitude"),
    ],
)
def test_creation_refusals(api_client, org, overrides, code, field):
    assert_error(post_json(api_client, submission_data(org, **overrides)), 422, code, field)
    assert Ticket.objects.count() == 0
    assert TicketEvent.objects.count() == 0


def test_an_enterprise_with_a_valid_code(api_client, org):
    response = post_json(api_client, submission_data(
        org, requester_kind="enterprise", enterprise_name="某科技有限公司", enterprise_credit_code=VALID_CREDIT_CODE,
    ))
    assert response.status_code == 201
    assert Ticket.objects.get().enterprise_credit_code == VALID_CREDIT_CODE


@pytest.mark.parametrize(("body", "code"), [(b"{not json", "invalid_json"), (b"[1, 2]", "invalid_json")])
def test_the_body_must_be_a_json_object(api_client, org, body, code):
    response = api_client.post(URL, body, content_type="application/json")
    assert_error(response, 422, code)
    assert Ticket.objects.count() == 0


def test_staff_with_an_unknown_channel(api, org):
    assert_error(api("post", URL, "agent", submission_data(org, channel="fax")), 422, "invalid_channel", "channel")
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize("who", ["handler", "leader", "supervisor", "cityleader", "admin"])
def test_staff_without_intake_role(api, org, who):
    assert_error(api("post", URL, who, submission_data(org)), 403, "role_not_allowed")
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ([("setup.exe", b"MZ\x90\x00" + b"\x00" * 60)], "file_type_not_allowed"),
        ([("photo.png", b"MZ\x90\x00" + b"\x00" * 60)], "file_type_not_allowed"),
        ([("readme.txt", b"just some text here")], "file_type_not_allowed"),
        ([("big.png", PNG + b"\x00" * 2048)], "file_too_large"),
        ([(f"p{i}.png", PNG) for i in range(6)], "too_many_files"),
        ([("ok.png", PNG), ("bad.exe", b"MZ" + b"\x00" * 10)], "file_type_not_allowed"),
    ],
)
def test_attachment_refusals(api_client, org, settings, files, code):
    settings.MINYI_ATTACHMENT_MAX_BYTES = 1024
    data = submission_data(org)
    data["attachments"] = [SimpleUploadedFile(name, content) for name, content in files]
    assert_error(api_client.post(URL, data), 422, code, "attachments")
    assert Ticket.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_refusal_messages_never_echo_personal_data(api_client, org):
    body = assert_error(
        post_json(api_client, submission_data(org, requester_phone="13800138000x")), 422, "invalid_phone"
    )
    assert "13800138000" not in str(body)
