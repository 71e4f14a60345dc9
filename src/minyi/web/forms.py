"""Forms of the portal and the console: they render fields and carry errors back to them.

Validation is not theirs: a new request is validated by `minyi.tickets.intake.clean_submission`
and every other input by the action that receives it. Fields are therefore lenient (they
only collect strings) and a refusal (`InvalidInput`) is attached to the field it names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from minyi.core.errors import DomainError, InvalidInput
from minyi.org.models import Category, Region, Unit
from minyi.sla.actions import MAX_EXTENSION_DAYS, MAX_MILESTONES
from minyi.sla.models import ExtensionReason, Milestone, StagedPlan
from minyi.supervision.models import SupervisionLevel
from minyi.tickets.choices import Channel, Rating, RequesterKind, RequestType, ReviewDecision
from minyi.tickets.intake import ALLOWED_FILE_TYPES, Submission, clean_submission
from minyi.tickets.models import ReplyOutcome, ReturnReason, Ticket

ACCEPTED_FILE_TYPES = ",".join(
    sorted({content_type for content_type, _ext in ALLOWED_FILE_TYPES.values()})
)


def blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class LenientField(forms.Field):
    """Keeps whatever was sent (a string or a list); the domain code judges it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class ErrorMixin:
    """Attach a domain error to its field when the form has one, else to the whole form."""

    #: Domain field names that this form calls otherwise.
    field_aliases: dict[str, str] = {}

    def add_domain_error(self, exc: DomainError) -> None:
        field = exc.field  # InvalidInput names its field; a few other refusals do too
        field = self.field_aliases.get(field or "", field)
        if field not in self.fields:  # type: ignore[attr-defined]
            field = None
        # Access `errors` first so the (lenient) clean has run and will not wipe ours.
        self.errors  # type: ignore[attr-defined]  # noqa: B018
        self.add_error(field, str(exc.message))  # type: ignore[attr-defined]


def category_choices() -> list[tuple[Any, Any]]:
    """Leaf categories grouped under their level-1 ancestor: [(group, [(id, label), ...])]."""
    nodes = list(Category.objects.filter(active=True).order_by("code"))
    by_id = {node.pk: node for node in nodes}
    parents = {node.parent_id for node in nodes if node.parent_id}
    groups: dict[int, list[tuple[int, str]]] = {}
    for node in nodes:
        if node.pk in parents:
            continue  # not a leaf
        names = [node.name]
        root = node
        while root.parent_id and root.parent_id in by_id:
            root = by_id[root.parent_id]
            names.append(root.name)
        if root.parent_id:  # an ancestor is inactive: the node is not offered
            continue
        label = " / ".join(reversed(names[:-1])) if root is not node else node.name
        groups.setdefault(root.pk, []).append((node.pk, label))
    return [
        *blank(_("— choose a category —")),
        *[(by_id[pk].name, items) for pk, items in groups.items()],
    ]


def district_choices() -> list[tuple[str, str]]:
    districts = Region.objects.filter(kind=Region.Kind.DISTRICT).order_by("code")
    return [*blank(_("— choose a district —")), *[(r.code, r.name) for r in districts]]


def street_choices(district_code: str | None) -> list[tuple[Any, Any]]:
    """The streets of `district_code`; without a district, every street grouped by district."""
    streets = (
        Region.objects.filter(kind=Region.Kind.STREET).select_related("parent").order_by("code")
    )
    if district_code:
        return [
            *blank(_("— any street —")),
            *[(r.code, r.name) for r in streets.filter(parent__code=district_code)],
        ]
    groups: dict[str, list[tuple[str, str]]] = {}
    for street in streets:
        groups.setdefault(street.parent.name if street.parent else "", []).append(
            (street.code, street.name)
        )
    return [*blank(_("— any street —")), *groups.items()]


class SubmissionForm(ErrorMixin, forms.Form):
    """A new request: the citizen portal and the intake console share this form.

    Field names are those `clean_submission` reads, so its errors land on the right field.
    """

    channel = forms.CharField(
        label=_("Channel"),
        required=False,
        widget=forms.Select(choices=[c for c in Channel.choices if c[0] != Channel.API]),
    )
    type = forms.CharField(
        label=_("Request type"),
        required=False,
        widget=forms.Select(choices=[*blank(_("— choose a type —")), *RequestType.choices]),
    )
    urgent = forms.BooleanField(
        label=_("Urgent: life or property at risk (handled within 24 hours)"), required=False
    )
    category_id = forms.CharField(label=_("Category"), required=False, widget=forms.Select())
    district = forms.CharField(label=_("District"), required=False, widget=forms.Select())
    street = forms.CharField(label=_("Street"), required=False, widget=forms.Select())
    address = forms.CharField(
        label=_("Address"),
        required=False,
        widget=forms.TextInput(
            attrs={"maxlength": 200, "placeholder": _("e.g. building, road, landmark")}
        ),
    )
    title = forms.CharField(
        label=_("Title"),
        required=False,
        widget=forms.TextInput(
            attrs={"maxlength": 100, "placeholder": _("One line that sums up the request")}
        ),
    )
    text = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "maxlength": 5000,
                "placeholder": _("What happened, where and since when; what you ask for"),
            }
        ),
    )
    attachments = LenientField(
        label=_("Attachments"),
        widget=MultipleFileInput(attrs={"accept": ACCEPTED_FILE_TYPES}),
    )
    requester_kind = forms.CharField(
        label=_("I am"),
        required=False,
        initial=RequesterKind.CITIZEN,
        widget=forms.RadioSelect(choices=RequesterKind.choices),
    )
    anonymous = forms.BooleanField(label=_("Submit anonymously"), required=False)
    requester_name = forms.CharField(
        label=_("Name"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 60, "autocomplete": "name"}),
    )
    requester_email = forms.CharField(
        label=_("E-mail (optional)"),
        required=False,
        widget=forms.EmailInput(attrs={"maxlength": 120, "autocomplete": "email"}),
        help_text=_("The reply and a link to rate it are sent here as well as by SMS."),
    )
    contact_allowed = forms.BooleanField(
        label=_("The handling unit may contact me (through a masked number)"), required=False
    )
    requester_phone = forms.CharField(
        label=_("Phone"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 20, "inputmode": "tel", "autocomplete": "tel"}),
    )
    enterprise_name = forms.CharField(
        label=_("Enterprise name"), required=False, widget=forms.TextInput(attrs={"maxlength": 100})
    )
    enterprise_credit_code = forms.CharField(
        label=_("Unified social credit code"),
        required=False,
        widget=forms.TextInput(
            attrs={"maxlength": 18, "autocapitalize": "characters", "spellcheck": "false"}
        ),
        help_text=_("18 characters, printed on the business licence."),
    )

    def __init__(self, *args, with_channel: bool = False, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("channel", Channel.HOTLINE)
        kwargs["initial"].setdefault("requester_kind", RequesterKind.CITIZEN)
        super().__init__(*args, **kwargs)
        if not with_channel:
            del self.fields["channel"]
        self.fields["category_id"].widget.choices = category_choices()
        self.fields["district"].widget.choices = district_choices()
        district = self.data.get("district") if self.is_bound else self.initial.get("district")
        self.fields["street"].widget.choices = street_choices(district or None)
        self.fields["district"].widget.attrs.update(
            {
                "hx-get": reverse_lazy("web:streets"),
                "hx-target": "#id_street",
                "hx-trigger": "change",
                "hx-swap": "innerHTML",
            }
        )
        self.fields["attachments"].help_text = _(
            "Up to %(n)d files, each at most %(mb)d MB: photos (JPEG, PNG, GIF, WebP) or PDF documents."
        ) % {
            "n": settings.MINYI_ATTACHMENT_MAX_FILES,
            "mb": settings.MINYI_ATTACHMENT_MAX_BYTES // (1024 * 1024),
        }
        # Hints for the browser; the server does not rely on them.
        for name in ("type", "category_id", "district", "title", "text"):
            self.fields[name].widget.attrs["required"] = True

    def to_submission(self, files: list[Any], *, channel: str | None = None) -> Submission | None:
        """Run `clean_submission` on the input; on refusal attach the error and return None."""
        if not self.is_valid():  # only length limits can fail here
            return None
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("attachments", "channel")}
        chosen = channel or self.cleaned_data.get("channel") or Channel.HOTLINE
        try:
            return clean_submission(data, files, channel=chosen)
        except InvalidInput as exc:
            self.add_domain_error(exc)
            return None


class TrackForm(forms.Form):
    number = forms.CharField(
        label=_("Ticket number"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "20260101-000001", "autocomplete": "off"}),
    )
    code = forms.CharField(
        label=_("Access code"),
        max_length=20,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class RateForm(ErrorMixin, forms.Form):
    rating = forms.CharField(
        label=_("Your rating"), required=False, widget=forms.RadioSelect(choices=Rating.choices)
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}),
    )


# --- the console's action forms: field names are the actions' parameter names ---------------


class DispatchForm(ErrorMixin, forms.Form):
    unit_id = forms.CharField(label=_("Lead unit"), required=False, widget=forms.Select())
    assisting_unit_ids = LenientField(
        label=_("Assisting units"), widget=forms.SelectMultiple(attrs={"size": 4})
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        units = [(u.pk, u.name) for u in Unit.objects.filter(active=True).order_by("code")]
        self.fields["unit_id"].widget.choices = [*blank(_("— choose the lead unit —")), *units]
        self.fields["assisting_unit_ids"].widget.choices = units

    def values(self) -> dict[str, Any]:
        def as_int(value: Any) -> int:
            try:
                return int(value)
            except (TypeError, ValueError):
                return 0

        assisting = self.cleaned_data.get("assisting_unit_ids") or []
        if isinstance(assisting, str):
            assisting = [assisting]
        return {
            "unit_id": as_int(self.cleaned_data.get("unit_id")),
            "assisting_unit_ids": [as_int(v) for v in assisting if v not in ("", None)],
            "note": self.cleaned_data.get("note") or "",
        }


class SignForm(ErrorMixin, forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.TextInput())


class ReturnForm(ErrorMixin, forms.Form):
    reason_code = forms.CharField(label=_("Reason"), required=False, widget=forms.Select())
    note = forms.CharField(
        label=_("Explanation"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "required": True}),
    )
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 1000, "required": True}),
        help_text=_("The law, regulation or list of duties that puts this outside your unit's remit."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reasons = ReturnReason.objects.filter(active=True).order_by("id")
        self.fields["reason_code"].widget.choices = [
            *blank(_("— choose a reason —")),
            *[(r.code, r.name) for r in reasons],
        ]


class ArbitrateForm(ErrorMixin, forms.Form):
    note = forms.CharField(
        label=_("Ruling"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000, "required": True}),
        help_text=_("Why the return is rejected. The ticket goes back to the same unit, which may not return it again."),
    )


class AssistInputForm(ErrorMixin, forms.Form):
    text = forms.CharField(
        label=_("Your unit's input for the lead unit"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 5000, "required": True}),
    )


class ReplyForm(ErrorMixin, forms.Form):
    outcome = forms.CharField(label=_("Outcome"), required=False, widget=forms.Select())
    text = forms.CharField(
        label=_("Reply to the requester"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "required": True}),
        help_text=_("Say what was done, the result, and by when anything still promised will be done."),
    )
    reply_files = LenientField(
        label=_("Attachments (images, PDF)"),
        widget=MultipleFileInput(attrs={"accept": ACCEPTED_FILE_TYPES}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].widget.choices = [
            *blank(_("— choose the outcome —")),
            *ReplyOutcome.objects.filter(active=True).values_list("code", "name"),
        ]
        self.fields["outcome"].widget.attrs["required"] = True
        self.fields["reply_files"].help_text = _(
            "Optional; the requester sees them with the reply. Up to %(n)d files, each at most %(mb)d MB: photos or PDF documents."
        ) % {
            "n": settings.MINYI_ATTACHMENT_MAX_FILES,
            "mb": settings.MINYI_ATTACHMENT_MAX_BYTES // (1024 * 1024),
        }


class LeaderApprovalForm(ErrorMixin, forms.Form):
    """The unit leader's decision on a reply under escalated handling: approve (sign) it, or
    send it back with what must change. One form with two buttons; the note is required only
    when sending back."""

    note = forms.CharField(
        label=_("Note (required when sending the reply back)"), required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 2000}),
    )


class RejectReplyForm(LeaderApprovalForm):
    pass


class ReviewForm(ErrorMixin, forms.Form):
    decision = forms.CharField(
        label=_("Is the dissatisfaction reasonable?"), required=False,
        widget=forms.RadioSelect(choices=ReviewDecision.choices),
    )
    explanation = forms.CharField(
        label=_("Explanation (the requester reads it when the ticket is closed)"), required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000, "required": True}),
    )


class DirectAnswerForm(ErrorMixin, forms.Form):
    text = forms.CharField(
        label=_("Answer (from the knowledge base)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "required": True}),
    )


class StaffRateForm(RateForm):
    """A rating recorded by platform staff on a return visit (回访)."""

    visit_note = forms.CharField(
        label=_("Return visit note"), required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 2000}),
    )


class CloseForm(ErrorMixin, forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- time limits: extensions, staged-closure plans, milestones ------------------------------


class TicketForm(ErrorMixin, forms.Form):
    """An action form whose choices depend on the ticket."""

    def __init__(self, *args, ticket: Ticket, **kwargs):
        self.ticket = ticket
        super().__init__(*args, **kwargs)


class MergeForm(TicketForm):
    """Merge into one of the possible duplicates, or into a ticket whose number is typed in."""

    into_id = forms.CharField(label=_("Merge into"), required=False, widget=forms.Select())
    into_number = forms.CharField(
        label=_("…or the ticket number"), required=False, max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "20261126-000001", "class": "mono"}),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, similar: list | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into_id"].widget.choices = [
            *blank(_("— choose a possible duplicate —")),
            *[(d.ticket.pk, f"{d.ticket.number} {d.ticket.title}（{round(d.score * 100)}%）") for d in similar or []],
        ]


class DecisionForm(ErrorMixin, forms.Form):
    """A supervisor's decision: the two buttons carry `decision`, the note explains it."""

    #: The values of the two submit buttons.
    APPROVE, REFUSE = "approve", "refuse"
    decision_buttons = True

    note = forms.CharField(
        label=_("Note (required when refusing)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 2000}),
    )

    def approve(self) -> bool:
        decision = self.data.get("decision") if self.is_bound else None
        if decision not in (self.APPROVE, self.REFUSE):
            raise InvalidInput(_("Please choose: approve or refuse."), "invalid_decision")
        return decision == self.APPROVE


class RequestExtensionForm(ErrorMixin, forms.Form):
    reason_code = forms.CharField(
        label=_("Reason for the extension"), required=False, widget=forms.Select()
    )
    working_days = forms.CharField(
        label=_("Working days needed"),
        required=False,
        widget=forms.NumberInput(
            attrs={
                "min": 1,
                "max": MAX_EXTENSION_DAYS,
                "step": 1,
                "inputmode": "numeric",
                "required": True,
            }
        ),
    )
    explanation = forms.CharField(
        label=_("Explanation"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000, "required": True}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reasons = ExtensionReason.objects.filter(active=True).order_by("id")
        self.fields["reason_code"].widget.choices = [
            *blank(_("— choose the reason for the extension —")),
            *[(r.code, r.name) for r in reasons],
        ]
        self.fields["reason_code"].widget.attrs["required"] = True
        self.fields["working_days"].help_text = _(
            "1 to %(n)d working days, added to the current deadlines."
        ) % {"n": MAX_EXTENSION_DAYS}


class DecideExtensionForm(DecisionForm):
    pass


class MilestoneRowsWidget(forms.Widget):
    """Rows of (description, date) inputs named `milestone_title` and `milestone_date`.

    Without JavaScript the page shows `BLANK_ROWS` rows; a script adds more (up to the limit).
    """

    template_name = "web/widgets/milestone_rows.html"
    BLANK_ROWS = 5

    def value_from_datadict(self, data, files, name):
        titles = data.getlist("milestone_title") if hasattr(data, "getlist") else []
        dates = data.getlist("milestone_date") if hasattr(data, "getlist") else []
        rows = []
        for i in range(max(len(titles), len(dates))):
            title = (titles[i] if i < len(titles) else "").strip()
            date = (dates[i] if i < len(dates) else "").strip()
            if title or date:  # a row left blank is not a milestone
                rows.append({"title": title, "due_date": date})
        return rows

    def value_omitted_from_data(self, data, files, name):
        return False

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        rows = [dict(row) for row in value] if isinstance(value, list) else []
        rows += [{"title": "", "due_date": ""}] * max(0, self.BLANK_ROWS - len(rows))
        context["widget"].update(rows=rows[:MAX_MILESTONES], max_rows=MAX_MILESTONES)
        return context


class FilePlanForm(ErrorMixin, forms.Form):
    explanation = forms.CharField(
        label=_("Explanation to the requester"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000, "required": True}),
        help_text=_(
            "Why the request cannot be finished soon, and what has been agreed with the requester."
        ),
    )
    milestones = LenientField(
        label=_("Milestones"),
        widget=MilestoneRowsWidget(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["milestones"].widget.attrs["required"] = True
        self.fields["milestones"].help_text = _(
            "What will be done by which date: in date order, at most %(n)d. Leave unused rows empty."
        ) % {"n": MAX_MILESTONES}

    def milestone_rows(self) -> list[dict[str, str]]:
        rows = self.cleaned_data.get("milestones") if hasattr(self, "cleaned_data") else None
        return list(rows) if isinstance(rows, list) else []


class DecidePlanForm(DecisionForm):
    pass


class RecordMilestoneForm(TicketForm):
    milestone_id = forms.CharField(label=_("Milestone"), required=False, widget=forms.Select())
    evidence = forms.CharField(
        label=_("What was done (evidence)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000, "required": True}),
    )
    field_aliases = {"files": "evidence_files"}  # `files` is the form's own upload mapping
    evidence_files = LenientField(
        label=_("Files (optional)"),
        widget=MultipleFileInput(attrs={"accept": ACCEPTED_FILE_TYPES}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        undone = Milestone.objects.filter(
            plan__ticket=self.ticket, plan__status=StagedPlan.Status.APPROVED, done_at=None
        ).order_by("seq")
        self.fields["milestone_id"].widget.choices = [
            (m.pk, f"{m.seq}. {m.title}（{m.due_date:%Y-%m-%d}）") for m in undone
        ]
        self.fields["milestone_id"].widget.attrs["required"] = True
        self.fields["evidence_files"].help_text = _(
            "Up to %(n)d files, each at most %(mb)d MB: photos (JPEG, PNG, GIF, WebP) or PDF documents."
        ) % {
            "n": settings.MINYI_ATTACHMENT_MAX_FILES,
            "mb": settings.MINYI_ATTACHMENT_MAX_BYTES // (1024 * 1024),
        }


ACTION_FORMS: dict[str, type[forms.Form]] = {
    "direct_answer": DirectAnswerForm,
    "dispatch": DispatchForm,
    "sign": SignForm,
    "return": ReturnForm,
    "arbitrate": ArbitrateForm,
    "merge": MergeForm,
    "assist_input": AssistInputForm,
    "reply": ReplyForm,
    "approve_reply": LeaderApprovalForm,
    "reject_reply": RejectReplyForm,
    "rate": StaffRateForm,
    "review": ReviewForm,
    "close": CloseForm,
    "request_extension": RequestExtensionForm,
    "decide_extension": DecideExtensionForm,
    "file_plan": FilePlanForm,
    "decide_plan": DecidePlanForm,
    "record_milestone": RecordMilestoneForm,
}


# --- supervision by hand, quality findings ---------------------------------------------------


class SuperviseForm(ErrorMixin, forms.Form):
    """A supervisor opens a supervision order (督办) on a ticket."""

    reason = forms.CharField(
        label=_("Reason for supervision"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000, "required": True}),
    )
    level = forms.CharField(label=_("Level"), required=False, widget=forms.Select())
    due = forms.CharField(
        label=_("Respond by (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Left empty, the level's own response time applies."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].widget.choices = [
            (lv.level, f"{lv.level}. {lv.name}") for lv in SupervisionLevel.objects.order_by("level")
        ]

    def values(self) -> dict[str, Any]:
        """The action's arguments; a level or date that cannot be read is refused on its field."""
        data = self.cleaned_data
        try:
            level = int(data.get("level") or 1)
        except (TypeError, ValueError):
            level = 0  # refused by the action as an unknown level
        text = (data.get("due") or "").strip()
        due = None
        if text:
            try:
                due = dt.date.fromisoformat(text)
            except ValueError:
                raise InvalidInput(_("Please enter a date (YYYY-MM-DD)."), "invalid_date", field="due") from None
        return {"reason": data.get("reason") or "", "level": level, "due": due}


class OrderAnswerForm(ErrorMixin, forms.Form):
    text = forms.CharField(
        label=_("Your unit's answer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 5000, "required": True}),
        help_text=_("What was done about it, and by when the rest will be done."),
    )


class OrderCloseForm(ErrorMixin, forms.Form):
    note = forms.CharField(
        label=_("Why the order can be closed"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 200, "required": True}),
    )


class ScreeningDecisionForm(ErrorMixin, forms.Form):
    """A supervisor's ruling on a quality finding: confirm (a new reply) or dismiss, with a note."""

    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 2000, "required": True}),
        help_text=_("Confirming opens a quality supervision order: the note tells the unit what its new reply must do."),
    )


# --- privacy: revealing a masked personal value, with a reason (audited) ----------------------


class RevealForm(ErrorMixin, forms.Form):
    """One personal field to see in clear, and why: `minyi.privacy.actions.reveal` judges both
    and audits every attempt, so the fields stay lenient (an empty reason reaches the action)."""

    field = forms.CharField(required=False, widget=forms.HiddenInput())
    reason = forms.CharField(
        label=_("Reason for viewing"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 500, "required": True, "autocomplete": "off"}),
        help_text=_("Recorded in the audit with your name, role and the time."),
    )

