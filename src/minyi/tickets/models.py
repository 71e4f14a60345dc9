"""The ticket, its attachments, replies, ratings and its append-only timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from minyi.org.models import Category, Region, Unit
from minyi.privacy.fields import EncryptedTextField
from minyi.tickets.choices import (
    Channel,
    Rating,
    ReplyState,
    RequesterKind,
    RequestType,
    Status,
)


class ReturnReason(models.Model):
    """Why a unit returns a ticket (退单), as data the administrator edits."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    requires_legal_basis = models.BooleanField(
        _("requires a legal basis"), default=True,
        help_text=_("The unit must cite the legal basis (law, regulation, list of duties) for this reason."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("return reason")
        verbose_name_plural = _("return reasons")

    def __str__(self) -> str:
        return self.name


class ReplyOutcome(models.Model):
    """What a reply says came of the request (resolved, partly resolved, explained...), as data."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    resolved = models.BooleanField(
        _("counts as resolved"), default=False, help_text=_("Counted in the resolution rate (解决率)."),
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("reply outcome")
        verbose_name_plural = _("reply outcomes")

    def __str__(self) -> str:
        return self.name


class DailySequence(models.Model):
    """The last ticket number handed out on a day (numbers read 20261126-000123)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class Ticket(models.Model):
    # Unique through Meta.constraints: on PostgreSQL `unique=True` would add a second, LIKE-only
    # index that no query uses and every insert pays for.
    number = models.CharField(_("number"), max_length=20)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )

    # The requester. Anonymous tickets keep no identity.
    anonymous = models.BooleanField(_("anonymous"), default=False)
    requester_kind = models.CharField(
        _("requester kind"), max_length=16, choices=RequesterKind.choices,
        default=RequesterKind.CITIZEN,
    )
    # Personal data is encrypted at rest (minyi.privacy, ADR 10); the phone is found by its
    # keyed hash. Read it only through `access.access_requester_contact` and the reveal action.
    requester_name = EncryptedTextField(_("requester name"), blank=True)
    requester_phone = EncryptedTextField(_("requester phone"), blank=True)
    requester_phone_hash = models.CharField(max_length=40, blank=True, editable=False)
    requester_id_number = EncryptedTextField(_("requester ID number"), blank=True)
    enterprise_name = models.CharField(_("enterprise name"), max_length=100, blank=True)
    enterprise_credit_code = models.CharField(
        _("unified social credit code"), max_length=18, blank=True
    )
    requester_email = EncryptedTextField(
        _("requester e-mail"), blank=True,
        help_text=_("Where the reply and the rating link are sent (optional)."),
    )
    contact_allowed = models.BooleanField(_("unit may contact the requester"), default=False)
    access_code_hash = models.CharField(max_length=128, editable=False)

    type = models.CharField(_("request type"), max_length=16, choices=RequestType.choices)
    urgent = models.BooleanField(_("urgent"), default=False)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("category")
    )
    district = models.ForeignKey(  # indexed by ticket_district_status
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"), db_index=False
    )
    street = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("street"),
    )
    address = EncryptedTextField(_("address"), blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    title = models.CharField(_("title"), max_length=100)
    text = models.TextField(_("text"))

    lead_unit = models.ForeignKey(  # indexed by ticket_unit_status_cov
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="lead_tickets",
        verbose_name=_("lead unit"), db_index=False,
    )
    assisting_units = models.ManyToManyField(
        Unit, blank=True, related_name="assisting_tickets", verbose_name=_("assisting units")
    )

    created_at = models.DateTimeField(_("submitted at"))  # indexed by ticket_created_cov
    # The requester's clock runs from submission; the unit's from its receipt (dispatch).
    time_limit_days = models.PositiveSmallIntegerField(
        _("time limit (working days)"), default=0, help_text=_("The policy's limit when taken in.")
    )
    extended_days = models.PositiveSmallIntegerField(_("working days added by extensions"), default=0)
    due_at = models.DateTimeField(_("deadline"))
    due_provisional = models.BooleanField(
        _("deadline provisional"), default=False,
        help_text=_("Counted on a year whose holiday notice is not loaded yet."),
    )
    unit_due_at = models.DateTimeField(_("unit deadline"), null=True, blank=True)
    unit_due_provisional = models.BooleanField(_("unit deadline provisional"), default=False)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    # Dispatch (ADR 0005): set at each dispatch, for the unit that received the ticket.
    sign_due_at = models.DateTimeField(_("sign for by"), null=True, blank=True)
    signed_late = models.BooleanField(
        _("signed late"), null=True, blank=True, help_text=_("Empty until the unit signs.")
    )
    return_due_at = models.DateTimeField(_("may be returned until"), null=True, blank=True)
    forced_dispatch = models.BooleanField(
        _("force-dispatched"), default=False,
        help_text=_("The dispatcher rejected the unit's return: the unit may not return it again."),
    )
    assist_due_at = models.DateTimeField(_("assisting units' input due"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    rating_due_at = models.DateTimeField(
        _("may be rated until"), null=True, blank=True,
        help_text=_("The end of the rating window; an unrated ticket closes then, counted as unrated."),
    )
    redo_count = models.PositiveSmallIntegerField(
        _("times redone"), default=0,
        help_text=_("提级办理: after a redo, the unit leader approves each reply before the requester sees it."),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("taken in by"),
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_tickets",
        verbose_name=_("merged into"),
        help_text=_("The ticket this duplicate was merged into; its requester follows that one."),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="ticket_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(type__in=RequestType.values), name="ticket_type_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(merged_into__isnull=True) | models.Q(status=Status.MERGED),
                name="ticket_merged_into_only_when_merged",
            ),
            models.CheckConstraint(
                condition=~models.Q(anonymous=True)
                | (models.Q(requester_name="") & models.Q(enterprise_credit_code="")),
                name="ticket_anonymous_keeps_no_identity",
            ),
            models.UniqueConstraint(fields=["number"], name="ticket_number_unique"),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="ticket_status_created"),
            # A unit's worklist sorts by the running deadline: covered, only the page's rows
            # are read from the table (PostgreSQL; SQLite ignores INCLUDE).
            models.Index(
                fields=["lead_unit", "status"], include=["unit_due_at", "due_at", "created_at", "id"],
                name="ticket_unit_status_cov",
            ),
            models.Index(fields=["district", "status"], name="ticket_district_status"),
            models.Index(fields=["status", "due_at"], name="ticket_status_due"),
            models.Index(fields=["status", "unit_due_at"], name="ticket_status_unit_due"),
            # The monthly measures read tickets by reply and sign-for time (minyi.insights).
            # Covering indexes: a month's measures are index-only scans at any table size.
            models.Index(fields=["replied_at"], include=["due_at", "dispatched_at"], name="ticket_replied_cov"),
            models.Index(fields=["signed_at"], include=["signed_late"], name="ticket_signed_cov"),
            models.Index(
                fields=["created_at"], include=["dispatched_at", "replied_at", "status"], name="ticket_created_cov"
            ),
            # A caller's earlier tickets, by the keyed hash of their number.
            models.Index(fields=["requester_phone_hash"], name="ticket_phone_hash"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def escalated(self) -> bool:
        """Escalated handling (提级办理): once redone, the unit leader signs every reply."""
        return self.redo_count > 0


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never carries the uploaded file name (it may contain personal data).
    return f"attachments/{instance.ticket.created_at:%Y/%m}/{instance.ticket.number}/{instance.token}{instance.extension}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    token = models.CharField(max_length=32, unique=True, editable=False)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(max_length=40)
    extension = models.CharField(max_length=8)
    size = models.PositiveIntegerField()
    public = models.BooleanField(
        default=True, help_text=_("Visible to the requester (their own uploads and the reply's).")
    )
    reply = models.ForeignKey(
        "Reply", on_delete=models.CASCADE, null=True, blank=True, related_name="attachments",
        help_text=_("The reply this file belongs to; empty for the requester's own uploads."),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


#: The units' published replies (not the platform's direct answers): what `feedback.stats` counts.
UNIT_REPLIES = models.Q(state=ReplyState.PUBLISHED, direct=False, unit__isnull=False)


class Reply(models.Model):
    """The unit's answer to the requester (答复); the platform's direct answer is one too."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="replies")
    text = models.TextField(_("reply"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    direct = models.BooleanField(_("direct answer by the platform"), default=False)
    outcome = models.ForeignKey(
        ReplyOutcome, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("outcome"),
    )
    state = models.CharField(
        _("state"), max_length=20, choices=ReplyState.choices, default=ReplyState.PUBLISHED
    )
    round = models.PositiveSmallIntegerField(
        _("handling round"), default=0, help_text=_("0 for the first handling, n for the n-th redo."),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    published_at = models.DateTimeField(_("sent to the requester at"), null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        indexes = [
            models.Index(fields=["published_at"], include=["direct", "state", "outcome", "unit"], name="reply_published_cov"),
            models.Index(fields=["unit", "created_at"], condition=UNIT_REPLIES, name="reply_unit_published"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.text[:20]}"


class TicketRating(models.Model):
    """The requester's rating of a reply, online or from a return visit (回访)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="ratings")
    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="ratings")
    rating = models.CharField(_("rating"), max_length=24, choices=Rating.choices)
    comment = models.TextField(_("comment"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text=_("Staff who recorded it on a return visit; empty when the requester rated online."),
    )
    visit_note = models.TextField(_("return visit note"), blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        indexes = [models.Index(fields=["created_at"], include=["rating"], name="rating_created_cov")]
        constraints = [
            # A merged ticket's requester rates the reply of the ticket it went into, on their own
            # ticket: one rating per reply and ticket.
            models.UniqueConstraint(fields=["ticket", "reply"], name="one_rating_per_ticket_reply"),
            models.CheckConstraint(
                condition=models.Q(rating__in=Rating.values), name="rating_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.rating}"


class AssistInput(models.Model):
    """An assisting unit's input (协办意见) for the lead unit, who replies for all."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="assist_inputs")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    text = models.TextField(_("input"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    late = models.BooleanField(_("after the deadline"), default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("assisting unit's input")
        verbose_name_plural = _("assisting units' input")

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.unit_id}"


class AppendOnlyError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk updates and deletes would rewrite the timeline too; refuse them like `save`."""

    def update(self, **kwargs):
        raise AppendOnlyError("ticket events are append-only")

    def delete(self):
        raise AppendOnlyError("ticket events are append-only")


#: The events the returns report counts (`dispatch.services.return_counts`): returns, and the
#: dispatches and arbitrations that carry a return's outcome. A partial index holds just these.
RETURN_EVENTS = models.Q(kind="return") | models.Q(data__has_key="return_outcome")
#: Closures at the end of the rating window without a rating (`feedback.stats`), indexed alike.
UNRATED_CLOSES = models.Q(kind="close", data__unrated=True)


class TicketEvent(models.Model):
    """One row per transition (and per notable act): the timeline, audit trail and KPI source.

    Rows are never updated or deleted.
    """

    ticket = models.ForeignKey(  # indexed by event_ticket_time
        Ticket, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_role = models.CharField(max_length=24)
    actor_label = models.CharField(max_length=60, blank=True)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text=_("The unit concerned (the unit dispatched to, the unit acting)."),
    )
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(default=True, help_text=_("Shown to the requester."))
    created_at = models.DateTimeField(db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="event_ticket_time"),
            # The reports' few rows among tens of millions of events, without reading the rest.
            models.Index(fields=["unit", "kind"], condition=RETURN_EVENTS, name="event_returns"),
            models.Index(fields=["unit", "created_at"], condition=UNRATED_CLOSES, name="event_unrated_closes"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("ticket events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("ticket events are append-only")


class Notification(models.Model):
    """A message to a staff user about a ticket event (shown in the console)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(TicketEvent, on_delete=models.CASCADE, related_name="notifications")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="one_notification_per_event_user"),
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.event_id}"
