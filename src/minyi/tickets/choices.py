"""One vocabulary for tickets: statuses (with named groups), request types, channels, ratings."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")  # 受理, awaiting dispatch or a direct answer
    DISPATCHED = "dispatched", _("Dispatched")  # 派单, awaiting sign-for
    RETURNED = "returned", _("Returned")  # 退单, awaiting the dispatcher's ruling
    IN_PROGRESS = "in_progress", _("In progress")  # 签收, being handled
    # 提级办理: a redo's reply waits for the unit leader's approval before the requester sees it.
    PENDING_APPROVAL = "pending_approval", _("Reply awaiting leader approval")
    REPLIED = "replied", _("Replied")  # 答复, awaiting rating
    UNDER_REVIEW = "under_review", _("Under review")  # dissatisfied rating awaiting review
    CLOSED = "closed", _("Closed")  # 办结
    MERGED = "merged", _("Merged")  # 已合并: a duplicate, handled through the ticket it went into


OPEN_STATUSES = frozenset(
    {
        Status.SUBMITTED,
        Status.DISPATCHED,
        Status.RETURNED,
        Status.IN_PROGRESS,
        Status.PENDING_APPROVAL,
        Status.REPLIED,
        Status.UNDER_REVIEW,
    }
)
TERMINAL_STATUSES = frozenset({Status.CLOSED, Status.MERGED})
#: Statuses in which a handling unit holds the ticket.
AT_UNIT_STATUSES = frozenset({Status.DISPATCHED, Status.IN_PROGRESS, Status.PENDING_APPROVAL})


class RequestType(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    HELP = "help", _("Help")
    SUGGESTION = "suggestion", _("Suggestion")
    COMPLAINT = "complaint", _("Complaint")
    REPORT = "report", _("Report")


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("12345 hotline")
    WEB = "web", _("Web portal")
    APP = "app", _("Mobile app")
    MINIPROGRAM = "miniprogram", _("Mini-program")
    API = "api", _("API")


class RequesterKind(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    ENTERPRISE = "enterprise", _("Enterprise")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")


class ReplyState(models.TextChoices):
    PUBLISHED = "published", _("Published")  # the requester sees it
    PENDING_APPROVAL = "pending_approval", _("Awaiting the unit leader's approval")
    REJECTED = "rejected", _("Sent back by the unit leader")


class ReviewDecision(models.TextChoices):
    REDO = "redo", _("Reasonable: redo (不满意重办)")
    CLOSE = "close", _("Not reasonable: close with an explanation")
