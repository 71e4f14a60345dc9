"""Request and response shapes of the REST API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import Field

RequestTypeLiteral = Literal["consultation", "help", "suggestion", "complaint", "report"]
RatingLiteral = Literal["satisfied", "basically_satisfied", "dissatisfied"]


class ErrorOut(Schema):
    code: str = Field(description="Stable machine-readable error code")
    message: str = Field(description="Human-readable message (in the request's language)")
    field: str | None = None


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"  # noqa: S105
    expires_at: dt.datetime


class UnitOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    region_id: int | None


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    path: str
    level: int
    parent_id: int | None
    default_type: str
    default_unit_id: int | None


class RegionOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[str]
    unit: UnitOut | None


class TicketIn(Schema):
    type: RequestTypeLiteral
    urgent: bool = False
    title: str = Field(max_length=100)
    text: str = Field(max_length=5000)
    category_id: int
    district: str = Field(description="District code or name")
    street: str | None = Field(None, description="Street code or name, within the district")
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    anonymous: bool = False
    contact_allowed: bool = False
    requester_kind: Literal["citizen", "enterprise"] = "citizen"
    requester_name: str = ""
    requester_phone: str = ""
    enterprise_name: str = ""
    enterprise_credit_code: str = ""
    channel: Literal["hotline", "web", "app", "miniprogram", "api"] | None = Field(
        None, description="Staff only; the public channel is always `api`"
    )


class TicketCreatedOut(Schema):
    id: int
    number: str
    access_code: str = Field(description="Shown once: the requester's key to follow the ticket")
    status: str
    due_at: dt.datetime


class RequesterOut(Schema):
    anonymous: bool
    kind: str
    name: str
    phone: str
    enterprise_name: str
    contact_allowed: bool


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str


class ReplyOut(Schema):
    text: str
    unit: str | None
    direct: bool
    created_at: dt.datetime


class TicketSummaryOut(Schema):
    id: int
    number: str
    status: str
    status_label: str
    type: str
    urgent: bool
    title: str
    channel: str
    category_id: int
    category: str
    district: str
    street: str | None
    lead_unit_id: int | None
    lead_unit: str | None
    created_at: dt.datetime
    due_at: dt.datetime
    overdue: bool


class TicketOut(TicketSummaryOut):
    text: str
    address: str
    latitude: float | None
    longitude: float | None
    assisting_units: list[UnitOut]
    requester: RequesterOut
    attachments: list[AttachmentOut]
    replies: list[ReplyOut]
    rating: str | None
    dispatched_at: dt.datetime | None
    signed_at: dt.datetime | None
    replied_at: dt.datetime | None
    closed_at: dt.datetime | None
    available_actions: list[str] = Field(description="Transitions the caller may take now")


class TicketPageOut(Schema):
    count: int
    page: int
    page_size: int
    results: list[TicketSummaryOut]


class EventOut(Schema):
    id: int
    kind: str
    actor: str
    actor_role: str
    unit: str | None
    from_status: str
    to_status: str
    note: str
    data: dict
    public: bool
    created_at: dt.datetime


class PublicEventOut(Schema):
    kind: str
    label: str
    unit: str | None
    to_status: str
    note: str
    created_at: dt.datetime


class TrackOut(Schema):
    number: str
    status: str
    status_label: str
    type: str
    title: str
    created_at: dt.datetime
    due_at: dt.datetime
    lead_unit: str | None
    replies: list[ReplyOut]
    rating: str | None
    can_rate: bool
    timeline: list[PublicEventOut]


class NoteIn(Schema):
    note: str = ""


class TextIn(Schema):
    text: str


class DispatchIn(Schema):
    unit_id: int
    assisting_unit_ids: list[int] = []
    note: str = ""


class ReturnIn(Schema):
    reason_code: str
    note: str


class RateIn(Schema):
    rating: RatingLiteral
    comment: str = ""


class TrackRateIn(RateIn):
    code: str
