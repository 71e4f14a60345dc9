"""Request and response shapes of the REST API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import Field

RequestTypeLiteral = Literal["consultation", "help", "suggestion", "complaint", "report"]
RatingLiteral = Literal["satisfied", "basically_satisfied", "dissatisfied"]
WarningLiteral = Literal["on_time", "due_soon", "overdue", ""]


class ErrorOut(Schema):
    code: str = Field(description="Stable machine-readable error code")
    message: str = Field(description="Human-readable message (in the request's language)")
    field: str | None = None


#: The refusals an endpoint documents (each body is an ErrorOut).
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


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


# --- time limits (办理时限), extensions, staged closure, supervision ----------------------------


class DeadlineOut(Schema):
    due_at: str = Field(description="The deadline, ISO 8601 in Asia/Shanghai (+08:00)")
    provisional: bool = Field(description="Counted on a year whose holiday notice is not loaded yet")
    working_days: int = Field(description="The time limit in working days (the policy's)")
    urgent_hours: int | None = Field(description="For an urgent request: the limit in hours; else null")


class HolidayDayOut(Schema):
    date: dt.date
    name: str
    is_off_day: bool = Field(description="True: a public holiday; false: a make-up working day (调休)")


class HolidayNoticeOut(Schema):
    year: int
    title: str
    source: str
    loaded_at: dt.datetime
    days: list[HolidayDayOut]


class SlaStatusOut(Schema):
    missing_notice_years: list[int] = Field(
        description="Years a deadline counted from today could reach whose holiday notice is not loaded"
    )


class ExtensionOut(Schema):
    id: int
    reason_code: str
    reason: str
    working_days: int
    explanation: str
    status: Literal["pending", "approved", "refused"]
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str
    old_due_at: dt.datetime | None
    new_due_at: dt.datetime | None


class MilestoneOut(Schema):
    id: int
    seq: int
    title: str
    due_date: dt.date
    done_at: dt.datetime | None
    evidence: str


class PlanOut(Schema):
    id: int
    explanation: str
    status: Literal["pending", "approved", "refused", "completed"]
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str
    milestones: list[MilestoneOut]


class SupervisionOrderOut(Schema):
    id: int
    cause: Literal["overdue", "milestone_missed"]
    level: int
    level_name: str
    status: Literal["open", "closed"]
    opened_at: dt.datetime
    due_at: dt.datetime
    closed_at: dt.datetime | None
    close_reason: str


class SupervisionOrderRowOut(SupervisionOrderOut):
    ticket_id: int
    ticket_number: str
    ticket_title: str
    unit_id: int | None
    unit: str | None
    milestone_id: int | None


class SupervisionPageOut(Schema):
    count: int
    page: int
    page_size: int
    results: list[SupervisionOrderRowOut]


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
    due_at: dt.datetime = Field(description="The requester's deadline (from submission)")
    overdue: bool = Field(description="Open and past the requester's deadline")
    unit_due_at: dt.datetime | None = Field(description="The unit's deadline (from its receipt), once dispatched")
    provisional: bool = Field(description="Either deadline is counted on a year without a loaded holiday notice")
    warning: WarningLiteral = Field(
        description="The running deadline's state (the unit's while a unit holds the ticket, the "
        "requester's while the platform does): on_time, due_soon, overdue; empty when no clock runs"
    )


class AssistInputOut(Schema):
    id: int
    unit_id: int
    unit: str
    text: str
    author: str
    late: bool = Field(description="Given after the assisting units' deadline")
    created_at: dt.datetime


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
    sign_due_at: dt.datetime | None = Field(description="The lead unit must sign for the ticket by then (签收时限)")
    signed_late: bool | None = Field(description="Whether the unit signed after its sign-for time; null until it signs")
    return_due_at: dt.datetime | None = Field(description="The lead unit may return the ticket until then (退单时限)")
    forced_dispatch: bool = Field(description="The dispatcher rejected the unit's return: it may not return it again")
    assist_due_at: dt.datetime | None = Field(description="Assisting units give their input by then (协办)")
    assist_inputs: list[AssistInputOut]
    replied_at: dt.datetime | None
    closed_at: dt.datetime | None
    available_actions: list[str] = Field(description="Transitions the caller may take now")
    merged_into: str | None = Field(description="The number of the ticket this one was merged into (合并)")
    merged: list[str] = Field(description="Numbers of the duplicate tickets merged into this one")
    time_limit_days: int = Field(description="The policy's limit in working days when taken in")
    extended_days: int = Field(description="Working days added by approved extensions")
    due_provisional: bool
    unit_due_provisional: bool
    time_left_seconds: int | None = Field(description="Until the running deadline (negative once past); null when no clock runs")
    extensions: list[ExtensionOut]
    plan: PlanOut | None = Field(description="The latest staged-closure plan")
    supervision_orders: list[SupervisionOrderOut]


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
    merged_into: str | None = Field(
        description="Merged into this ticket (已合并): status, unit and replies are that ticket's; "
        "the requester rates its reply on their own ticket"
    )


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
    legal_basis: str = Field(
        description="The law, regulation or list of duties the return relies on (required unless the "
        "reason says otherwise)"
    )


class MergeIn(Schema):
    into_id: int = Field(description="The open ticket to merge this one into")
    note: str = ""


class DuplicateOut(Schema):
    id: int
    number: str
    title: str
    status: str
    street: str | None
    district: str
    created_at: dt.datetime
    score: float = Field(description="Text similarity, 0..1")
    reasons: list[str]


class ArbitrateIn(Schema):
    note: str = Field(description="The dispatcher's ruling: why the return is rejected")


class AssistInputIn(Schema):
    text: str


class RoutedUnitOut(Schema):
    id: int
    code: str
    name: str


class RoutingOut(Schema):
    unit: RoutedUnitOut | None
    assisting_units: list[RoutedUnitOut]
    source: str = Field(description="rule, category_default, street_office, district_government or none")
    rule_id: int | None
    matched_on: str = Field(description="For a rule: street, district or any")
    explicit: bool = Field(description="An explicit routing rule named the unit (only these auto-dispatch)")
    why: str


class ReturnCountOut(Schema):
    unit_id: int
    unit: str
    returns: int
    upheld: int = Field(description="Returns the dispatcher accepted: the ticket went to another unit")
    resent: int = Field(description="Returns after which the ticket was dispatched to the same unit again "
                        "(e.g. with completed information); the unit may return it again")
    rejected: int = Field(description="Returns the dispatcher rejected: force-dispatched back (arbitration)")
    pending: int = Field(description="Returns awaiting the dispatcher's ruling")


class RateIn(Schema):
    rating: RatingLiteral
    comment: str = ""


class TrackRateIn(RateIn):
    code: str


# --- time-limit acts ------------------------------------------------------------------------


class ExtensionIn(Schema):
    reason_code: str = Field("", description="An active extension reason's code")
    working_days: int | None = Field(None, description="Working days asked for (1 to 30)")
    explanation: str = ""


class DecisionIn(Schema):
    approve: bool
    note: str = Field("", description="Required when refusing")


class MilestoneIn(Schema):
    title: str
    due_date: dt.date


class PlanIn(Schema):
    explanation: str = Field("", description="What the unit has explained to the requester")
    milestones: list[MilestoneIn] = Field(default_factory=list, description="In date order, none in the past")


class MilestoneDoneIn(Schema):
    milestone_id: int
    evidence: str = ""
