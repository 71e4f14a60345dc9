"""Validation of a new request, shared by the API, the portal and the intake console.

`clean_submission` turns raw input into a `Submission` or raises InvalidInput naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from minyi.core.errors import InvalidInput
from minyi.org import reference
from minyi.org.models import Category, Region
from minyi.privacy.policy import id_number_valid
from minyi.tickets.choices import Channel, RequesterKind, RequestType

PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

ALLOWED_FILE_TYPES = {
    # content sniffed from the first bytes -> (content type, extension)
    "jpeg": ("image/jpeg", ".jpg"),
    "png": ("image/png", ".png"),
    "gif": ("image/gif", ".gif"),
    "webp": ("image/webp", ".webp"),
    "pdf": ("application/pdf", ".pdf"),
}


def credit_code_valid(code: str) -> bool:
    """The 18-character unified social credit code (GB 32100-2015), with its check digit."""
    if len(code) != 18 or any(ch not in CREDIT_CODE_ALPHABET for ch in code):
        return False
    total = sum(
        CREDIT_CODE_ALPHABET.index(ch) * w for ch, w in zip(code[:17], CREDIT_CODE_WEIGHTS, strict=True)
    )
    check = (31 - total % 31) % 31
    return CREDIT_CODE_ALPHABET[check] == code[17]


def sniff_file_type(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    return None


@dataclass(frozen=True)
class CleanFile:
    upload: Any  # django UploadedFile
    name: str
    content_type: str
    extension: str
    size: int


def clean_files(files: list[Any], *, field: str = "attachments") -> list[CleanFile]:
    if len(files) > settings.MINYI_ATTACHMENT_MAX_FILES:
        raise InvalidInput(
            _("At most %(n)d attachments.") % {"n": settings.MINYI_ATTACHMENT_MAX_FILES},
            "too_many_files", field=field,
        )
    cleaned = []
    for upload in files:
        if upload.size > settings.MINYI_ATTACHMENT_MAX_BYTES:
            raise InvalidInput(
                _("Each attachment may be at most %(mb)d MB.")
                % {"mb": settings.MINYI_ATTACHMENT_MAX_BYTES // (1024 * 1024)},
                "file_too_large", field=field,
            )
        if upload.size == 0:
            raise InvalidInput(_("An attachment is empty."), "file_empty", field=field)
        upload.seek(0)
        kind = sniff_file_type(upload.read(16))
        upload.seek(0)
        if kind is None:
            raise InvalidInput(
                _("Only images (JPEG, PNG, GIF, WebP) and PDF documents may be attached."),
                "file_type_not_allowed", field=field,
            )
        content_type, extension = ALLOWED_FILE_TYPES[kind]
        name = (upload.name or "file").replace("\\", "/").rsplit("/", 1)[-1][:120]
        cleaned.append(CleanFile(upload, name, content_type, extension, upload.size))
    return cleaned


@dataclass(frozen=True)
class Submission:
    channel: str
    type: str
    urgent: bool
    title: str
    text: str
    category: Category
    district: Region
    street: Region | None
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    anonymous: bool
    contact_allowed: bool
    requester_kind: str
    requester_name: str
    requester_phone: str
    enterprise_name: str
    enterprise_credit_code: str
    files: tuple[CleanFile, ...]
    requester_email: str = ""
    requester_id_number: str = ""


FIELD_LABELS = {
    "type": _lazy("request type"),
    "title": _lazy("title"),
    "text": _lazy("description"),
    "address": _lazy("address"),
    "requester_name": _lazy("name"),
    "requester_phone": _lazy("phone"),
    "requester_email": _lazy("e-mail"),
    "requester_id_number": _lazy("ID number"),
    "enterprise_name": _lazy("enterprise name"),
    "enterprise_credit_code": _lazy("unified social credit code"),
    "requester_kind": _lazy("requester kind"),
}


def _text(data: dict[str, Any], name: str, max_length: int, *, required: bool = False) -> str:
    value = data.get(name)
    value = "" if value is None else str(value).strip()
    if required and not value:
        raise InvalidInput(_("This field is required: %(field)s.") % {"field": FIELD_LABELS.get(name, name)}, "required", field=name)
    if len(value) > max_length:
        raise InvalidInput(
            _("%(field)s is too long (at most %(n)d characters).") % {"field": FIELD_LABELS.get(name, name), "n": max_length},
            "too_long", field=name,
        )
    return value


def _bool(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "on", "yes"}
    return bool(value)


def _category(pk: int) -> Category | None:
    if settings.MINYI_REFERENCE_CACHE_SECONDS > 0:
        return reference.snapshot().category(pk)
    return Category.objects.filter(pk=pk, active=True).first()


def find_region(value: Any, kind: str, parent: Region | None = None) -> Region | None:
    """The district or street (`kind`) given by code, name or id; within `parent` when given."""
    value = "" if value is None else str(value).strip()
    if not value:
        return None
    if settings.MINYI_REFERENCE_CACHE_SECONDS > 0:
        return reference.snapshot().region(value, kind, parent)
    regions = Region.objects.filter(kind=kind)
    if parent is not None:
        regions = regions.filter(parent=parent)
    lookup = regions.filter(code=value).first() or regions.filter(name=value).first()
    if lookup is None and value.isdigit():
        lookup = regions.filter(pk=int(value)).first()
    return lookup


def _coordinate(data: dict[str, Any], name: str, low: int, high: int) -> Decimal | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Coordinates must be numbers."), "invalid_coordinates", field=name) from None
    if not low <= number <= high:
        raise InvalidInput(_("Coordinates are out of range."), "invalid_coordinates", field=name)
    return number


def clean_submission(data: dict[str, Any], files: list[Any], *, channel: str) -> Submission:
    if channel not in Channel.values:
        raise InvalidInput(_("Unknown channel."), "invalid_channel", field="channel")
    request_type = _text(data, "type", 16, required=True)
    if request_type not in RequestType.values:
        raise InvalidInput(_("Unknown request type."), "invalid_type", field="type")
    title = _text(data, "title", 100, required=True)
    text = _text(data, "text", 5000, required=True)
    if len(text) < 5:
        raise InvalidInput(_("Please describe the request in a few words more."), "text_too_short", field="text")

    category_id = data.get("category_id")
    try:
        category = _category(int(category_id)) if category_id not in (None, "") else None
    except (TypeError, ValueError):
        category = None
    if category is None:
        raise InvalidInput(_("Please choose a valid category."), "invalid_category", field="category_id")

    district = find_region(data.get("district"), Region.Kind.DISTRICT)
    if district is None:
        raise InvalidInput(_("Please choose a valid district."), "invalid_district", field="district")
    street = None
    if data.get("street") not in (None, ""):
        street = find_region(data.get("street"), Region.Kind.STREET, parent=district)
        if street is None:
            raise InvalidInput(_("The street is not in the chosen district."), "invalid_street", field="street")

    anonymous = _bool(data, "anonymous")
    contact_allowed = _bool(data, "contact_allowed")
    requester_kind = _text(data, "requester_kind", 16) or RequesterKind.CITIZEN
    if requester_kind not in RequesterKind.values:
        raise InvalidInput(_("Unknown requester kind."), "invalid_requester_kind", field="requester_kind")
    name = _text(data, "requester_name", 60)
    phone = re.sub(r"[\s]", "", _text(data, "requester_phone", 20))
    email = _text(data, "requester_email", 120).strip()
    id_number = _text(data, "requester_id_number", 18).strip().upper()
    enterprise_name = _text(data, "enterprise_name", 100)
    credit_code = _text(data, "enterprise_credit_code", 18).upper()

    if anonymous:
        # An anonymous requester keeps no identity; a phone is kept only to be called back.
        name, enterprise_name, credit_code, email, id_number = "", "", "", "", ""
        if not contact_allowed:
            phone = ""
    else:
        if not name:
            raise InvalidInput(_("Please give your name, or submit anonymously."), "required", field="requester_name")
        if requester_kind == RequesterKind.ENTERPRISE:
            if not enterprise_name:
                raise InvalidInput(_("Please give the enterprise's name."), "required", field="enterprise_name")
            if not credit_code_valid(credit_code):
                raise InvalidInput(
                    _("The unified social credit code is not valid (18 characters with a check digit)."),
                    "invalid_credit_code", field="enterprise_credit_code",
                )
    if contact_allowed and not phone:
        raise InvalidInput(_("Please give a phone number so the unit can contact you."), "required", field="requester_phone")
    if phone and not PHONE_RE.match(phone):
        raise InvalidInput(_("The phone number is not valid."), "invalid_phone", field="requester_phone")
    if id_number and not id_number_valid(id_number):
        raise InvalidInput(
            _("The ID number is not valid (18 characters with a check character)."), "invalid_id_number",
            field="requester_id_number",
        )
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput(_("The e-mail address is not valid."), "invalid_email", field="requester_email") from None

    return Submission(
        channel=channel,
        type=request_type,
        urgent=_bool(data, "urgent"),
        title=title,
        text=text,
        category=category,
        district=district,
        street=street,
        address=_text(data, "address", 200),
        latitude=_coordinate(data, "latitude", -90, 90),
        longitude=_coordinate(data, "longitude", -180, 180),
        anonymous=anonymous,
        contact_allowed=contact_allowed,
        requester_kind=requester_kind,
        requester_name=name,
        requester_phone=phone,
        enterprise_name=enterprise_name,
        enterprise_credit_code=credit_code,
        files=tuple(clean_files(files)),
        requester_email=email,
        requester_id_number=id_number,
    )
