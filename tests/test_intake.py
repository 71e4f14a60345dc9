"""Intake: validating a new request, attachments, ticket numbers and access codes."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import submission_data
from minyi.core import clock
from minyi.core.errors import InvalidInput
from minyi.tickets import actions
from minyi.tickets.codes import (
    CODE_ALPHABET,
    access_code_matches,
    hash_access_code,
    new_access_code,
    next_number,
    normalise_code,
)
from minyi.tickets.intake import clean_submission, credit_code_valid
from minyi.tickets.models import Attachment, DailySequence, Ticket, TicketEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")

# GB 32100-2015: the alphabet has no I, O, S, V, Z; weights are 3^i mod 31.
GB32100_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
GB32100_WEIGHTS = [pow(3, i, 31) for i in range(17)]


def with_check_digit(first17: str) -> str:
    total = sum(GB32100_ALPHABET.index(ch) * w for ch, w in zip(first17, GB32100_WEIGHTS, strict=True))
    return first17 + GB32100_ALPHABET[(31 - total % 31) % 31]


VALID_CODE = with_check_digit("91440300MA5F00000")

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def refusal(org, files=(), **overrides) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        clean_submission(submission_data(org, **overrides), list(files), channel="web")
    return caught.value


# --- the unified social credit code ------------------------------------------------------------


def test_check_digit_of_published_codes():
    # A widely published sample code (the check digit is the 18th character).
    assert credit_code_valid("91350100M000100Y43")
    assert with_check_digit("91350100M000100Y4") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        (VALID_CODE, True),
        (with_check_digit("12440300455757818"), True),
        (with_check_digit("52440300MJL000001"), True),
        (VALID_CODE[:17] + ("0" if VALID_CODE[17] != "0" else "1"), False),  # wrong check digit
        (VALID_CODE[:17], False),  # 17 characters
        (VALID_CODE + "0", False),  # 19 characters
        ("91440300MA5F0000I" + "0", False),  # I is not in the alphabet
        (VALID_CODE.lower(), False),  # the function wants the normalised form
        ("", False),
    ],
)
def test_credit_code_valid(code, valid):
    assert credit_code_valid(code) is valid


# --- clean_submission: accepted ---------------------------------------------------------------


def test_a_named_citizen_request(org):
    sub = clean_submission(submission_data(org, requester_phone="138 0013 8000"), [], channel="hotline")
    assert sub.channel == "hotline"
    assert sub.type == "complaint"
    assert sub.category == org["property"]
    assert sub.district == org["futian"]
    assert sub.street == org["lianhua"]
    assert sub.requester_name == "张三"
    assert sub.requester_phone == "13800138000"  # spaces removed
    assert sub.anonymous is False
    assert sub.files == ()


def test_district_and_street_by_name(org):
    sub = clean_submission(submission_data(org, district="福田区", street="莲花街道"), [], channel="web")
    assert (sub.district, sub.street) == (org["futian"], org["lianhua"])


def test_anonymous_drops_identity(org):
    sub = clean_submission(
        submission_data(
            org, anonymous=True, contact_allowed=False, requester_name="张三",
            requester_phone="13800138000", requester_kind="enterprise",
            enterprise_name="深圳某科技有限公司", enterprise_credit_code=VALID_CODE,
        ),
        [], channel="web",
    )
    assert sub.anonymous is True
    assert sub.requester_name == ""
    assert sub.requester_phone == ""
    assert sub.enterprise_name == ""
    assert sub.enterprise_credit_code == ""


def test_anonymous_keeps_a_phone_only_to_be_called_back(org):
    sub = clean_submission(
        submission_data(org, anonymous=True, contact_allowed=True), [], channel="web"
    )
    assert sub.requester_name == ""
    assert sub.requester_phone == "13800138000"


def test_enterprise_with_a_valid_code(org):
    sub = clean_submission(
        submission_data(
            org, requester_kind="enterprise", enterprise_name="深圳某科技有限公司",
            enterprise_credit_code=VALID_CODE.lower(),
        ),
        [], channel="web",
    )
    assert sub.requester_kind == "enterprise"
    assert sub.enterprise_credit_code == VALID_CODE


@pytest.mark.parametrize("phone", ["13800138000", "19912345678", "0755-83456789", "075583456789", "010-1234567"])
def test_valid_phones(org, phone):
    assert clean_submission(submission_data(org, requester_phone=phone), [], channel="web").requester_phone == phone


# --- clean_submission: refused ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"title": ""}, "required", "title"),
        ({"title": "   "}, "required", "title"),
        ({"title": "长" * 101}, "too_long", "title"),
        ({"text": ""}, "required", "text"),
        ({"text": "电梯坏"}, "text_too_short", "text"),
        ({"type": ""}, "required", "type"),
        ({"type": "praise"}, "invalid_type", "type"),
        ({"category_id": None}, "invalid_category", "category_id"),
        ({"category_id": 999999}, "invalid_category", "category_id"),
        ({"category_id": "abc"}, "invalid_category", "category_id"),
        ({"district": ""}, "invalid_district", "district"),
        ({"district": "999999"}, "invalid_district", "district"),
        ({"district": "440304001"}, "invalid_district", "district"),  # a street is no district
        ({"street": "440305001"}, "invalid_street", "street"),  # 粤海街道 is in 南山区
        ({"street": "粤海街道"}, "invalid_street", "street"),
        ({"requester_name": ""}, "required", "requester_name"),
        ({"requester_phone": ""}, "required", "requester_phone"),  # contact allowed, no phone
        ({"requester_phone": "12345"}, "invalid_phone", "requester_phone"),
        ({"requester_phone": "12800138000"}, "invalid_phone", "requester_phone"),
        ({"requester_phone": "1380013800a"}, "invalid_phone", "requester_phone"),
        ({"requester_kind": "robot"}, "invalid_requester_kind", "requester_kind"),
        ({"requester_kind": "enterprise", "enterprise_credit_code": VALID_CODE}, "required", "enterprise_name"),
        ({"latitude": "north"}, "invalid_coordinates", "latitude"),
        ({"longitude": 181}, "invalid_coordinates", "longitude"),
    ],
)
def test_refusals(org, overrides, code, field):
    error = refusal(org, **overrides)
    assert (error.code, error.field) == (code, field)
    assert error.http_status == 422


def test_a_bad_phone_is_refused_even_when_no_contact_is_wanted(org):
    error = refusal(org, contact_allowed=False, requester_phone="12345")
    assert (error.code, error.field) == ("invalid_phone", "requester_phone")


def test_an_inactive_category_is_refused(org):
    org["property"].active = False
    org["property"].save()
    error = refusal(org)
    assert (error.code, error.field) == ("invalid_category", "category_id")


@pytest.mark.parametrize(
    "credit_code",
    [
        VALID_CODE[:17] + ("0" if VALID_CODE[17] != "0" else "1"),
        VALID_CODE[:17],
        "",
        "ABCDEFGHIJKLMNOPQR",
    ],
)
def test_enterprise_with_an_invalid_code(org, credit_code):
    error = refusal(
        org, requester_kind="enterprise", enterprise_name="深圳某科技有限公司",
        enterprise_credit_code=credit_code,
    )
    assert (error.code, error.field) == ("invalid_credit_code", "enterprise_credit_code")


def test_unknown_channel(org):
    with pytest.raises(InvalidInput) as caught:
        clean_submission(submission_data(org), [], channel="fax")
    assert (caught.value.code, caught.value.field) == ("invalid_channel", "channel")


def test_refusal_messages_carry_no_personal_data(org):
    error = refusal(org, requester_phone="12345678901")
    assert "12345678901" not in str(error.message)
    assert "张三" not in str(error.message)


# --- attachments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type", "extension"),
    [
        ("photo.png", PNG, "image/png", ".png"),
        ("IMG_0001.JPG", JPEG, "image/jpeg", ".jpg"),
        ("证明材料.pdf", PDF, "application/pdf", ".pdf"),
        # The type is sniffed from the content, never taken from the name.
        ("scan.jpg", PDF, "application/pdf", ".pdf"),
        ("noextension", PNG, "image/png", ".png"),
    ],
)
def test_accepted_attachments(org, name, content, content_type, extension):
    sub = clean_submission(submission_data(org), [upload(name, content)], channel="web")
    [item] = sub.files
    assert (item.name, item.content_type, item.extension, item.size) == (
        name, content_type, extension, len(content)
    )


def test_the_stored_name_drops_any_client_path(org):
    sub = clean_submission(submission_data(org), [upload("C:\\Users\\张三\\photo.png", PNG)], channel="web")
    assert sub.files[0].name == "photo.png"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.exe", EXE),
        ("photo.png", EXE),  # a program dressed as a picture
        ("note.txt", "这是一段文字说明".encode()),
        ("page.html", b"<html><script>alert(1)</script></html>"),
    ],
)
def test_refused_attachment_types(org, name, content):
    error = refusal(org, files=[upload(name, content, "image/png")])
    assert (error.code, error.field) == ("file_type_not_allowed", "attachments")


def test_oversized_attachment(org, settings):
    settings.MINYI_ATTACHMENT_MAX_BYTES = 1024
    assert clean_submission(submission_data(org), [upload("ok.png", PNG + b"\x00" * (1024 - len(PNG)))], channel="web")
    error = refusal(org, files=[upload("big.png", PNG + b"\x00" * 1024)])
    assert (error.code, error.field) == ("file_too_large", "attachments")


def test_empty_attachment(org):
    error = refusal(org, files=[upload("empty.png", b"")])
    assert (error.code, error.field) == ("file_empty", "attachments")


def test_too_many_attachments(org, settings):
    assert settings.MINYI_ATTACHMENT_MAX_FILES == 5
    five = [upload(f"p{i}.png", PNG) for i in range(5)]
    assert len(clean_submission(submission_data(org), five, channel="web").files) == 5
    error = refusal(org, files=[upload(f"p{i}.png", PNG) for i in range(6)])
    assert (error.code, error.field) == ("too_many_files", "attachments")


def test_submit_stores_attachments_under_a_token_name(org, actors):
    sub = clean_submission(submission_data(org), [upload("张三的身份证.png", PNG)], channel="web")
    ticket, _ = actions.submit(actors["agent"], sub)
    [attachment] = Attachment.objects.filter(ticket=ticket)
    assert attachment.name == "张三的身份证.png"
    assert attachment.size == len(PNG)
    assert attachment.content_type == "image/png"
    # The stored path never carries the uploaded name.
    assert "张三" not in attachment.file.name
    assert attachment.file.name.endswith(f"{attachment.token}.png")
    with attachment.file.open("rb") as f:
        assert f.read() == PNG


# --- ticket numbers ---------------------------------------------------------------------------


def _submit_at(org, actors, moment: dt.datetime) -> Ticket:
    with clock.frozen_at(moment):
        ticket, _ = actions.submit(actors["agent"], clean_submission(submission_data(org), [], channel="hotline"))
    return ticket


def test_numbers_count_per_day_in_shanghai(org, actors):
    day1 = dt.datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
    numbers = [_submit_at(org, actors, day1).number for _ in range(3)]
    assert numbers == ["20261126-000001", "20261126-000002", "20261126-000003"]
    # 23:30 in Shenzhen is still the same day (15:30 UTC).
    late = dt.datetime(2026, 11, 26, 15, 30, tzinfo=dt.UTC)
    assert _submit_at(org, actors, late).number == "20261126-000004"
    # 00:30 the next day in Shenzhen (16:30 UTC on the 26th) starts a new sequence.
    next_day = dt.datetime(2026, 11, 26, 16, 30, tzinfo=dt.UTC)
    assert _submit_at(org, actors, next_day).number == "20261127-000001"
    assert _submit_at(org, actors, day1).number == "20261126-000005"


def test_a_new_ticket_is_stored_as_the_orm_would_store_it(org, actors):
    """PostgreSQL stores a new ticket with one hand-built statement: every column must come
    back as the in-memory ticket has it (sealed personal data too), with its first event."""
    moment = dt.datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
    ticket = _submit_at(org, actors, moment)
    stored = Ticket.objects.get(pk=ticket.pk)
    for field in Ticket._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(ticket, field.attname), field.name
    assert (stored.requester_name, stored.requester_phone, stored.address) == ("张三", "13800138000", "莲花北村12栋")
    [event] = TicketEvent.objects.filter(ticket=ticket)
    assert (event.kind, event.from_status, event.to_status) == ("submit", "", "submitted")
    assert event.data == {"channel": "hotline", "attachments": 0}
    assert event.actor == actors["agent"].user


def test_numbers_past_a_million_a_day_keep_counting(org, actors):
    DailySequence.objects.create(day=dt.date(2026, 11, 26), last=999_999)
    moment = dt.datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
    assert _submit_at(org, actors, moment).number == "20261126-1000000"


def test_number_format(db):
    assert re.fullmatch(r"\d{8}-\d{6}", next_number(dt.date(2026, 1, 2)))
    assert next_number(dt.date(2026, 1, 2)) == "20260102-000002"


# --- access codes -----------------------------------------------------------------------------


def test_new_access_codes():
    codes = {new_access_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 10
        assert set(code) <= set(CODE_ALPHABET)
    assert not set("01OIL") & set(CODE_ALPHABET)


def test_access_code_hashing(settings):
    code = "ABCDE23456"
    digest = hash_access_code(code)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert code not in digest
    # What people type: lower case, spaces, dashes.
    assert normalise_code(" abcde-23456 ") == code
    assert access_code_matches("abcde 23456", digest)
    assert not access_code_matches("ABCDE23457", digest)
    # Keyed: another key gives another hash.
    settings.MINYI_ACCESS_CODE_KEY = "another-key"
    assert hash_access_code(code) != digest


def test_the_access_code_is_stored_only_hashed(new_ticket):
    ticket = new_ticket()
    code = ticket.access_code
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.access_code_hash == hash_access_code(code)
    assert code not in [str(v) for v in Ticket.objects.filter(pk=ticket.pk).values().get().values()]
