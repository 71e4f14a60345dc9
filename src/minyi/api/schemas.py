"""Request and response shapes of the REST API."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from ninja import Schema
from pydantic import Field

if TYPE_CHECKING:
    from minyi.tickets.duplicates import Similar

RequestTypeLiteral = Literal["consultation", "help", "suggestion", "complaint", "report"]
RatingLiteral = Literal["satisfied", "basically_satisfied", "dissatisfied"]
WarningLiteral = Literal["on_time", "due_soon", "overdue", ""]


class ErrorOut(Schema):
    code: str = Field(description="Stable machine-readable error code")
    message: str = Field(description="Human-readable message (in the request's language)")
    field: str | None = None


#: The refusals an endpoint documents (each body is an ErrorOut).
ERRORS = {
    400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 410: ErrorOut, 422: ErrorOut,
    429: ErrorOut,
}


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
    requester_email: str = Field("", description="Where the reply and the rating link are sent (not for anonymous requests)")
    requester_id_number: str = Field("", description="Resident ID number, when the matter needs it (18 characters, check character verified)")
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
    name: str = Field(description="Clear, masked or empty, by the caller's role")
    phone: str = Field(description="Clear for intake; masked (138****5678) or empty for others")
    email: str
    id_number: str
    address: str
    revealable: list[str] = Field(description="Fields the caller may reveal with a reason (POST .../reveal)")
    enterprise_name: str
    contact_allowed: bool


class RevealIn(Schema):
    field: Literal["name", "phone", "email", "id_number", "address"]
    reason: str


class RevealOut(Schema):
    field: str
    value: str


class RevealAuditOut(Schema):
    id: int
    ticket_id: int
    ticket_number: str
    field: str
    user: str
    role: str
    reason: str
    granted: bool
    refusal: str
    created_at: dt.datetime


class RevealAuditPageOut(Schema):
    count: int
    page: int
    page_size: int
    results: list[RevealAuditOut]


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str


class ReplyAttachmentOut(Schema):
    name: str
    content_type: str
    size: int
    url: str


class ReplyOut(Schema):
    id: int
    text: str
    unit: str | None
    direct: bool
    outcome: str | None = Field(description="The outcome's code (resolved, partly_resolved, explained...)")
    outcome_name: str | None
    state: Literal["published", "pending_approval", "rejected"] = Field(
        description="Only published replies reach the requester"
    )
    round: int = Field(description="0 for the first handling, n for the n-th redo (不满意重办)")
    approved: bool = Field(description="Approved (signed) by the unit leader under escalated handling")
    attachments: list[ReplyAttachmentOut]
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
    cause: Literal["overdue", "milestone_missed", "manual", "quality"]
    level: int
    level_name: str
    status: Literal["open", "closed"]
    opened_at: dt.datetime
    due_at: dt.datetime
    closed_at: dt.datetime | None
    close_reason: str
    reason: str = Field(description="Why a supervisor opened it (manual and quality orders)")
    answer: str = Field(description="The supervised unit's answer")
    answered_at: dt.datetime | None = Field(description="An answered order does not escalate")


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


class ReviewOut(Schema):
    decision: Literal["redo", "close"]
    explanation: str
    round: int
    redo_due_at: dt.datetime | None
    decided_at: dt.datetime


class FindingOut(Schema):
    code: str
    reason: str
    evidence: list[str]


class ScreeningOut(Schema):
    id: int
    reply_id: int
    relevance: float
    state: Literal["clean", "flagged", "confirmed", "dismissed"]
    findings: list[FindingOut]
    screened_at: dt.datetime
    decision_note: str


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
    rating_due_at: dt.datetime | None = Field(description="The requester may rate until then; unrated, it closes")
    redo_count: int = Field(description="Times redone after a dissatisfied rating judged reasonable")
    escalated: bool = Field(description="Escalated handling (提级办理): the unit leader approves each reply")
    reviews: list[ReviewOut]
    screenings: list[ScreeningOut] = Field(description="Quality screening of the replies (staff)")
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
    rating_due_at: dt.datetime | None = Field(description="The reply may be rated until then")
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


def duplicate_out(found: Similar) -> dict:
    """A `DuplicateOut` for one of `similar_open_tickets`' results."""
    t = found.ticket
    return {
        "id": t.pk, "number": t.number, "title": t.title, "status": t.status,
        "street": t.street.name if t.street else None, "district": t.district.name,
        "created_at": t.created_at, "score": found.score, "reasons": found.reasons,
    }


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


class ReturnVisitIn(RateIn):
    visit_note: str = Field("", description="The return-visit call (回访): what the requester said")


class ReplyIn(Schema):
    text: str
    outcome: str = Field(description="An active outcome's code: GET /api/v1/feedback/outcomes")


class ReviewIn(Schema):
    decision: Literal["redo", "close"] = Field(description="redo: reasonable, back to the unit; close: not reasonable")
    explanation: str


class OutcomeOut(Schema):
    code: str
    name: str
    resolved: bool


class RateLinkOut(Schema):
    number: str
    title: str
    status: str
    status_label: str
    reply: ReplyOut
    rating: str | None
    can_rate: bool
    rating_due_at: dt.datetime | None


class UnitFeedbackOut(Schema):
    unit_id: int
    unit: str
    replies: int
    satisfied: int
    basically_satisfied: int
    dissatisfied: int
    unrated: int = Field(description="Closed when the rating window ended without a rating")
    redos: int = Field(description="Dissatisfied ratings judged reasonable: handled again (不满意重办)")
    satisfaction_rate: float | None = Field(description="(satisfied + basically satisfied) / rated; null when none rated")


class OrderIn(Schema):
    ticket_id: int
    reason: str
    level: int = 1
    due: dt.date | None = Field(None, description="Respond by this day; the level's time when empty")


class OrderAnswerIn(Schema):
    text: str


class DashboardRowOut(Schema):
    unit_id: int | None
    unit: str | None
    levels: dict[str, int] = Field(description="Open orders by level")
    open: int
    overdue: int = Field(description="Open orders past their own deadline")


class DashboardOut(Schema):
    levels: list[dict[str, Any]]
    rows: list[DashboardRowOut]
    total_open: int


class ScreeningDetailOut(ScreeningOut):
    ticket_id: int
    ticket_number: str
    ticket_title: str
    unit: str | None
    reply_text: str


class ScreeningPageOut(Schema):
    count: int
    page: int
    page_size: int
    results: list[ScreeningDetailOut]


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
