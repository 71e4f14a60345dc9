"""The citizen portal and the staff console: thin views over `access`, `intake` and `actions`.

Views read through `minyi.tickets.access` and change tickets only through
`minyi.tickets.actions`; a refusal (`DomainError`) becomes a form error or an alert.
HTMX requests get the fragment they target; without JavaScript every form still works
(POST, then redirect).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Count, Max, Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from minyi.calls import access as calls_access
from minyi.calls.models import Binding, CallRecord
from minyi.core import clock
from minyi.core.counting import count_all
from minyi.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, RateLimited
from minyi.core.ratelimit import check_rate
from minyi.dispatch import services as dispatch_services
from minyi.feedback import actions as feedback_actions
from minyi.feedback.models import RatingReview
from minyi.feedback.stats import unit_feedback
from minyi.org import reference
from minyi.org.actors import Actor, actor_for_user, for_one_request, requester_actor
from minyi.org.models import UNIT_ROLES, Category, Region, Role, Unit
from minyi.sla import actions as sla_actions
from minyi.sla import clocks
from minyi.sla import services as sla_services
from minyi.sla.guards import MAX_EXTENSIONS
from minyi.sla.models import Decision, Extension, Milestone, StagedPlan, TimeLimitPolicy
from minyi.sla.policies import SHANGHAI, TIME_LIMIT_DAYS, URGENT_HOURS, redo_working_days
from minyi.supervision import actions as supervision_actions
from minyi.supervision import screening
from minyi.supervision.access import (
    access_order,
    access_screening_queryset,
    access_supervision_queryset,
    can_answer_order,
    can_see_supervision,
    can_supervise,
    sees_all_orders,
)
from minyi.supervision.actions import levels as supervision_levels
from minyi.supervision.dashboard import dashboard
from minyi.supervision.models import ReplyScreening, SupervisionLevel, SupervisionOrder
from minyi.tickets import access, actions, presence, workflow
from minyi.tickets.choices import (
    AT_UNIT_STATUSES,
    Channel,
    Rating,
    ReplyState,
    RequestType,
    Status,
)
from minyi.tickets.duplicates import Similar, similar_open_tickets
from minyi.tickets.intake import clean_files
from minyi.tickets.models import Attachment, Notification, Reply, Ticket, TicketRating
from minyi.tickets.paging import LIST_DEFERRED, ticket_page
from minyi.tickets.timeline import (
    event_label,
    followed,
    merged_public_timeline,
    public_timeline,
    published_replies,
    requester_can_rate,
    staff_timeline,
)
from minyi.web.forms import (
    ACTION_FORMS,
    DecisionForm,
    DispatchForm,
    MergeForm,
    OrderAnswerForm,
    OrderCloseForm,
    RateForm,
    RevealForm,
    ScreeningDecisionForm,
    SubmissionForm,
    SuperviseForm,
    TicketForm,
    TrackForm,
    street_choices,
)
from minyi.web.templatetags.minyi_web import role_text

#: Session keys. The access code is kept only server-side, never in a URL.
TRACKED_KEY = "minyi_tracked"  # {number: code} the visitor has proved they hold
SUBMITTED_KEY = "minyi_submitted"  # the portal's one-time "here is your code" page
INTAKE_DONE_KEY = "minyi_intake_done"  # the same for an intake agent
TRACKED_MAX = 10
PAGE_SIZE = 20


def public_actor() -> Actor:
    return actor_for_user(AnonymousUser())


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# --- the citizen portal ----------------------------------------------------------------------


def remember_tracked(request: HttpRequest, number: str, code: str) -> None:
    tracked = dict(request.session.get(TRACKED_KEY, {}))
    tracked.pop(number, None)
    tracked[number] = code
    while len(tracked) > TRACKED_MAX:
        tracked.pop(next(iter(tracked)))
    request.session[TRACKED_KEY] = tracked


def forget_tracked(request: HttpRequest, number: str) -> None:
    tracked = dict(request.session.get(TRACKED_KEY, {}))
    if tracked.pop(number, None) is not None:
        request.session[TRACKED_KEY] = tracked


@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """The portal's front page: a request form anyone may submit (channel: web)."""
    status = 200
    files_dropped = False
    if request.method == "POST":
        form = SubmissionForm(request.POST, request.FILES)
        files = request.FILES.getlist("attachments")
        try:
            check_rate(request, "submit")
            submission = form.to_submission(files, channel=Channel.WEB)
            if submission is not None:
                ticket, code = actions.submit(public_actor(), submission)
                remember_tracked(request, ticket.number, code)
                request.session[SUBMITTED_KEY] = {"number": ticket.number, "code": code}
                return redirect("web:submitted")
            status = 422
        except DomainError as exc:
            form.add_domain_error(exc)
            status = exc.http_status
        files_dropped = bool(files)
    else:
        form = SubmissionForm()
    return render(
        request,
        "web/portal/home.html",
        {
            "form": form,
            "files_dropped": files_dropped,
            "type_limits": time_limits(),
            "preview": preview_for_form(form),
        },
        status=status,
    )


def time_limits() -> list[tuple[str, str]]:
    """The default time limits (the policies without a category), as the portal states them."""
    defaults = {rule.request_type: rule for rule in TimeLimitPolicy.objects.filter(category=None)}
    hours = {rule.urgent_hours for rule in defaults.values()} or {URGENT_HOURS}
    urgent_hours = max(hours)
    rows = [
        (
            _("Urgent (life or property at risk)"),
            ngettext("handled within %(n)d hour", "handled within %(n)d hours", urgent_hours)
            % {"n": urgent_hours},
        )
    ]
    by_days: dict[int, list[str]] = {}
    for request_type in RequestType:
        rule = defaults.get(request_type)
        days = rule.working_days if rule else TIME_LIMIT_DAYS[request_type]
        by_days.setdefault(days, []).append(str(request_type.label))
    for days, labels in sorted(by_days.items()):
        limit = ngettext("within %(n)d working day", "within %(n)d working days", days) % {
            "n": days
        }
        rows.append((_(", ").join(labels), limit))
    return rows


@require_GET
def submitted(request: HttpRequest) -> HttpResponse:
    """Shows the ticket number and access code once, after a portal submission."""
    done = request.session.pop(SUBMITTED_KEY, None)
    if not done:
        return redirect("web:home")
    try:
        ticket = access.access_track(done["number"], done["code"])
    except NotFound:
        return redirect("web:home")
    response = render(
        request, "web/portal/submitted.html", {"ticket": ticket, "code": done["code"]}
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def streets(request: HttpRequest) -> HttpResponse:
    """The <option>s of the street select for a district (an HTMX fragment)."""
    district = request.GET.get("district", "").strip()
    options, groups = [], []
    for value, label in street_choices(district or None):
        if isinstance(label, (list, tuple)):
            groups.append((value, label))
        else:
            options.append((value, label))
    return render(request, "web/_street_options.html", {"options": options, "groups": groups})


def deadline_preview_context(request_type: str, urgent: bool, category_id: str) -> dict[str, Any]:
    """The deadline a request of this type (and category, urgency) taken in now would get."""
    if request_type not in RequestType.values:
        return {"ready": False}
    category = None
    if str(category_id).isdigit():
        category = Category.objects.filter(pk=int(category_id), active=True).first()
    days, urgent_hours = sla_services.policy_for(request_type, category)
    due = sla_services.deadline_for(clock.now(), days, urgent=urgent, urgent_hours=urgent_hours)
    return {
        "ready": True,
        "due": due.at,
        "provisional": due.provisional,
        "urgent": urgent,
        "days": days,
        "hours": urgent_hours,
    }


def preview_for_form(form: SubmissionForm) -> dict[str, Any]:
    data = form.data if form.is_bound else form.initial
    return deadline_preview_context(
        str(data.get("type") or ""),
        str(data.get("urgent") or "").lower() in ("on", "true", "1"),
        str(data.get("category_id") or ""),
    )


@require_GET
def deadline_preview(request: HttpRequest) -> HttpResponse:
    """The expected deadline for the intake form's type, urgency and category (a fragment)."""
    context = deadline_preview_context(
        request.GET.get("type", "").strip(),
        request.GET.get("urgent", "").strip().lower() in ("on", "true", "1"),
        request.GET.get("category_id", "").strip(),
    )
    return render(request, "web/_deadline_preview.html", {"preview": context})


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """Follow a ticket: the number and access code given at submission."""
    status = 200
    if request.method == "POST":
        form = TrackForm(request.POST)
        if form.is_valid():
            try:
                check_rate(request, "track")
                ticket = access.access_track(form.cleaned_data["number"], form.cleaned_data["code"])
            except DomainError as exc:
                form.add_error(None, str(exc.message))
                status = exc.http_status
            else:
                remember_tracked(request, ticket.number, form.cleaned_data["code"])
                return redirect("web:track_ticket", number=ticket.number)
        else:
            status = 422
    else:
        form = TrackForm(initial={"number": request.GET.get("number", "")[:20]})
    recent = list(request.session.get(TRACKED_KEY, {}))[::-1]
    return render(
        request, "web/portal/track_form.html", {"form": form, "recent": recent}, status=status
    )


def _tracked_ticket(request: HttpRequest, number: str) -> tuple[Ticket | None, str]:
    """The ticket this visitor has proved access to, re-checked against the stored code."""
    code = request.session.get(TRACKED_KEY, {}).get(number)
    if not code:
        return None, ""
    check_rate(request, "track")
    try:
        return access.access_track(number, code), code
    except NotFound:
        forget_tracked(request, number)
        return None, ""


def _track_lookup_again(request: HttpRequest, number: str) -> HttpResponse:
    url = f"{reverse('web:track')}?{urlencode({'number': number})}"
    if is_htmx(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def public_reply_rows(replies: list[Reply], file_url: Callable[[Attachment], str]) -> list[dict[str, Any]]:
    """Published replies as the requester reads them: outcome, text and the reply's public
    files (never who wrote or approved it)."""
    return [
        {
            "reply": item,
            "files": [
                {"name": a.name, "size": a.size, "content_type": a.content_type, "url": file_url(a)}
                for a in item.attachments.all()
                if a.public
            ],
        }
        for item in replies
    ]


def published_reply_list(ticket: Ticket) -> list[Reply]:
    return list(published_replies(ticket).prefetch_related("attachments"))


def track_context(
    ticket: Ticket, rate_form: RateForm | None = None, alert: str = ""
) -> dict[str, Any]:
    """The requester's view; a merged ticket shows the state and replies of the one it went into."""
    into = followed(ticket)
    can_rate = requester_can_rate(ticket)
    timeline = merged_public_timeline(ticket, into) if into is not ticket else public_timeline(ticket)
    previous = ""
    for row in timeline:  # acts that keep the state (an extension...) do not repeat it
        row["changed"] = row["to_status"] != previous
        previous = row["to_status"]
    number = ticket.number
    replies = public_reply_rows(
        published_reply_list(into), lambda a: reverse("web:track_file", args=[number, a.token])
    )
    return {
        "ticket": ticket,
        "into": into if into is not ticket else None,
        "followed": into,
        "timeline": timeline,
        "replies": replies,
        "ratings": list(ticket.ratings.all()),
        # The review of the requester's own dissatisfied rating: redone, or closed and why.
        "reviews": list(RatingReview.objects.filter(ticket=ticket).order_by("decided_at", "id")),
        "can_rate": can_rate,
        "rating_due_at": into.rating_due_at if can_rate else None,
        "rate_form": (rate_form or RateForm(auto_id="id_rate_%s")) if can_rate else None,
        "alert": alert,
    }


@require_GET
def track_ticket(request: HttpRequest, number: str) -> HttpResponse:
    try:
        ticket, _code = _tracked_ticket(request, number)
    except RateLimited as exc:
        return render(request, "web/portal/message.html", {"message": exc.message}, status=429)
    if ticket is None:
        return _track_lookup_again(request, number)
    response = render(request, "web/portal/track.html", track_context(ticket))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def track_rate(request: HttpRequest, number: str) -> HttpResponse:
    """The requester rates the reply (posted by HTMX; also works as a plain form)."""
    try:
        ticket, code = _tracked_ticket(request, number)
    except RateLimited as exc:
        return render(request, "web/portal/message.html", {"message": exc.message}, status=429)
    if ticket is None:
        return _track_lookup_again(request, number)
    form = RateForm(request.POST, auto_id="id_rate_%s")
    form.is_valid()
    alert = ""
    try:
        actions.rate(
            requester_actor(),
            None,
            rating=form.cleaned_data.get("rating") or "",
            comment=form.cleaned_data.get("comment") or "",
            code=code,
            number=number,
        )
    except DomainError as exc:
        if isinstance(exc, InvalidInput):
            form.add_domain_error(exc)
        else:
            alert = str(exc.message)
        ticket = access.access_track(number, code)
        template = "web/portal/_track_panel.html" if is_htmx(request) else "web/portal/track.html"
        return render(request, template, track_context(ticket, form, alert), status=exc.http_status)
    messages.success(request, _("Thank you for your rating."))
    if is_htmx(request):
        ticket = access.access_track(number, code)
        return render(request, "web/portal/_track_panel.html", track_context(ticket))
    return redirect("web:track_ticket", number=number)


def file_response(item: Attachment) -> FileResponse:
    response = FileResponse(item.file.open("rb"), content_type=item.content_type, filename=item.name)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def track_file(request: HttpRequest, number: str, token: str) -> HttpResponseBase:
    """A public file of a published reply, to the visitor who proved access to the ticket
    with its number and code."""
    try:
        ticket, _code = _tracked_ticket(request, number)
    except RateLimited as exc:
        return render(request, "web/portal/message.html", {"message": exc.message}, status=429)
    if ticket is None:
        return _track_lookup_again(request, number)
    into = followed(ticket)
    item = Attachment.objects.filter(
        token=token, public=True, reply__ticket=into, reply__state=ReplyState.PUBLISHED
    ).first()
    if item is None:
        raise Http404
    return file_response(item)


# --- the rating link sent with a reply (评价链接) -----------------------------------------------


#: Why a rating link shows no form (the rating action refuses the same cases).
LINK_STATES = {
    "rated": gettext_lazy("This reply has already been rated."),
    "superseded": gettext_lazy("This rating link is no longer valid: the ticket has a newer reply."),
    "closed": gettext_lazy("The time to rate this reply has passed."),
}


def rate_link_context(
    token: str, ticket: Ticket, item: Reply, rate_form: RateForm | None = None, alert: str = ""
) -> dict[str, Any]:
    """What the link's page shows: the ticket, the reply it rates, and the form while the reply
    may still be rated (else why not)."""
    into = followed(ticket)
    rating = TicketRating.objects.filter(ticket=ticket, reply=item).first()
    latest: int | None = published_replies(into).order_by("-created_at", "-id").values_list("pk", flat=True).first()
    if latest != item.pk:  # as the action decides: a newer reply first, then a rating
        state = "superseded"
    elif rating is not None:
        state = "rated"
    elif not requester_can_rate(ticket) or (
        into.rating_due_at is not None and clock.now() > into.rating_due_at
    ):
        state = "closed"
    else:
        state = "open"
    prefetch_related_objects([item], "attachments")
    rows = public_reply_rows([item], lambda a: reverse("web:rate_file", args=[token, a.token]))
    return {
        "token": token,
        "ticket": ticket,
        "followed": into,
        "replies": rows,
        "rating": rating,
        "state": state,
        "why_not": LINK_STATES.get(state, ""),
        "rating_due_at": into.rating_due_at if state == "open" else None,
        "rate_form": (rate_form or RateForm(auto_id="id_rate_%s")) if state == "open" else None,
        "alert": alert,
    }


def _link_refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = render(
        request, "web/portal/message.html",
        {"message": exc.message, "code": exc.code, "title": _("Rate the reply")}, status=exc.http_status,
    )
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def rate_link(request: HttpRequest, token: str) -> HttpResponse:
    """The page of the one-use rating link sent by SMS and e-mail: the ticket's number and
    title, the reply, and a rating form (`feedback.actions.rate_by_link` decides)."""
    try:
        check_rate(request, "track")
        ticket, item = feedback_actions.link_ticket(token)
    except DomainError as exc:
        return _link_refused(request, exc)
    status = 200
    form = None
    alert = ""
    if request.method == "POST":
        form = RateForm(request.POST, auto_id="id_rate_%s")
        form.is_valid()
        try:
            feedback_actions.rate_by_link(
                token,
                rating=form.cleaned_data.get("rating") or "",
                comment=form.cleaned_data.get("comment") or "",
            )
        except DomainError as exc:
            if exc.field:
                form.add_domain_error(exc)
            else:
                alert = str(exc.message)
            status = exc.http_status
        else:
            messages.success(request, _("Thank you for your rating."))
            if not is_htmx(request):
                return redirect("web:rate_link", token=token)
            form = None
        ticket.refresh_from_db()
    context = rate_link_context(token, ticket, item, form, alert)
    template = "web/portal/_rate_panel.html" if is_htmx(request) else "web/portal/rate.html"
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def rate_file(request: HttpRequest, token: str, file_token: str) -> HttpResponseBase:
    """A public file of the reply a rating link is for."""
    try:
        check_rate(request, "track")
        _ticket, item = feedback_actions.link_ticket(token)
    except DomainError as exc:
        return _link_refused(request, exc)
    found = Attachment.objects.filter(token=file_token, reply=item, public=True).first()
    if found is None or item.state != ReplyState.PUBLISHED:
        raise Http404
    return file_response(found)


# --- the staff console: login, header, errors ----------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "web/console/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        try:
            check_rate(request, "login", limit=10)
        except RateLimited as exc:
            # Do not even check the password; show an empty form with the message.
            form = self.get_form_class()(request)
            context = self.get_context_data(form=form, refused=exc.message)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    pass


def staff_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Login required (HTMX requests are sent to the login page), and a role on the platform."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            if is_htmx(request):
                login = f"{reverse('web:login')}?{urlencode({'next': request.htmx.current_url_abs_path or reverse('web:worklist')})}"  # type: ignore[attr-defined]
                return HttpResponseClientRedirect(login)
            return redirect_to_login(request.get_full_path())
        actor = for_one_request(actor_for_user(request.user))
        try:
            access.require_staff(actor)
        except DomainError as exc:
            return console_error(request, exc)
        request.actor = actor  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


#: Roles warned when a year's holiday notice is missing (deadlines are provisional).
NOTICE_WARNING_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR})


def holiday_notice_admin_url() -> str:
    try:
        return reverse("admin:sla_holidaynotice_changelist")
    except NoReverseMatch:
        return ""


def virtual_number_admin_url() -> str:
    try:
        return reverse("admin:calls_virtualnumber_changelist")
    except NoReverseMatch:
        return ""


def header_context(request: HttpRequest) -> dict[str, Any]:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    unit_name = ""
    if actor.unit_id:
        snap = reference.cached()
        if snap is not None:
            unit_name = snap.unit_names.get(actor.unit_id, "")
        else:
            unit_name = Unit.objects.filter(pk=actor.unit_id).values_list("name", flat=True).first() or ""
    # The badges: one statement for all of them.
    badges: dict[str, QuerySet[Any]] = {
        "unread": Notification.objects.filter(
            user=actor.user,
            read_at__isnull=True,
            ticket__in=access.access_ticket_queryset(actor).values("pk"),
        )
    }
    supervisor_pages = can_see_supervision(actor)
    if supervisor_pages:
        badges["supervision_open"] = access_supervision_queryset(actor).filter(status=SupervisionOrder.Status.OPEN)
    reviewer = access.can_review(actor)
    if reviewer:
        badges["reviews_open"] = access.access_ticket_queryset(actor).filter(status=Status.UNDER_REVIEW)
    if can_supervise(actor):
        badges["flagged"] = access_screening_queryset(actor).filter(state=ReplyScreening.State.FLAGGED)
    counts = count_all(badges)
    unread = counts["unread"]
    is_admin = actor.has(Role.ADMIN) or request.user.is_staff
    supervision_open = counts.get("supervision_open", 0) if supervisor_pages else None
    reviews_open = counts.get("reviews_open", 0)
    flagged = counts.get("flagged", 0)
    notice_years: list[int] = []
    if actor.roles & NOTICE_WARNING_ROLES:
        notice_years = sla_services.missing_notice_years(clock.local_today())
    return {
        "me": {
            "label": actor.label,
            "roles": [role_text(r) for r in sorted(actor.roles)],
            "unit": unit_name,
            "is_admin": is_admin,
            "can_intake": access.can_intake(actor),
            "unread": unread,
            "supervision": supervision_open is not None,
            "supervision_open": supervision_open or 0,
            "reviews": reviewer,
            "reviews_open": reviews_open,
            "quality": supervision_open is not None,
            "quality_open": flagged,
            "notice_years": _(", ").join(str(year) for year in notice_years),
            "notice_admin_url": holiday_notice_admin_url() if is_admin and notice_years else "",
            "kpis": access.can_see_kpis(actor),
            "reveal_audit": access.can_read_reveal_audit(actor),
            "numbers_admin_url": virtual_number_admin_url() if is_admin else "",
        }
    }


def render_console(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    return render(request, template, {**header_context(request), **(context or {})}, status=status)


def console_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    context = {"message": exc.message, "code": exc.code}
    if is_htmx(request):
        return render(request, "web/console/_alert.html", context, status=exc.http_status)
    if getattr(request, "actor", None) is None:
        return render(request, "web/console/error.html", context, status=exc.http_status)
    return render_console(request, "web/console/error.html", context, status=exc.http_status)


# --- the worklist --------------------------------------------------------------------------


class Tab:
    def __init__(
        self,
        key: str,
        label: Any,
        statuses: list[str] | None,
        roles: frozenset[str] | None = None,
        own_unit: bool = False,
    ):
        self.key, self.label, self.statuses, self.roles, self.own_unit = (
            key,
            label,
            statuses,
            roles,
            own_unit,
        )

    def visible_to(self, actor: Actor) -> bool:
        return self.roles is None or bool(self.roles & actor.roles)

    def condition(self, actor: Actor) -> Q:
        condition = Q()
        if self.statuses is not None:
            condition &= Q(status__in=self.statuses)
        if self.own_unit and not actor.city_wide:
            condition &= Q(lead_unit_id=actor.unit_id)
        return condition

    def apply(self, actor: Actor, tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
        return tickets.filter(self.condition(actor))


def tab_counts(actor: Actor, tickets: QuerySet[Ticket], tabs: list[Tab]) -> dict[str, int | None]:
    """The open tabs' counts in one query over the open statuses only (an index range, however
    many closed tickets the unit has); "all" shows no count."""
    counted = [tab for tab in tabs if tab.statuses is not None]
    statuses = sorted({status for tab in counted for status in tab.statuses or ()})
    counts = tickets.filter(status__in=statuses).aggregate(
        **{tab.key: Count("pk", filter=tab.condition(actor) or None) for tab in counted}
    )
    return {tab.key: (counts[tab.key] or 0) if tab.key in counts else None for tab in tabs}


TABS = [
    Tab(
        "dispatch",
        gettext_lazy("To dispatch"),
        [Status.SUBMITTED, Status.RETURNED],
        frozenset({Role.DISPATCHER, Role.INTAKE_AGENT}),
    ),
    Tab(
        "sign",
        gettext_lazy("To sign for"),
        [Status.DISPATCHED],
        frozenset(UNIT_ROLES),
        own_unit=True,
    ),
    Tab("in_progress", gettext_lazy("In progress"), [Status.IN_PROGRESS]),
    # Escalated handling (提级办理): replies waiting for the unit leader's approval.
    Tab(
        "approve",
        gettext_lazy("Replies to approve"),
        [Status.PENDING_APPROVAL],
        frozenset({Role.UNIT_LEADER}),
        own_unit=True,
    ),
    Tab("replied", gettext_lazy("Replied"), [Status.REPLIED]),
    Tab("all", gettext_lazy("All"), None),
]
TABS_BY_KEY = {tab.key: tab for tab in TABS}


def default_tab(actor: Actor) -> str:
    if actor.has(Role.DISPATCHER):
        return "dispatch"
    if actor.roles & UNIT_ROLES:
        return "sign"
    return "all"


FILTER_KEYS = ("status", "type", "category", "district", "unit", "q", "warning", "sort")

WARNING_LABELS = {
    clocks.ON_TIME: gettext_lazy("On time"),
    clocks.DUE_SOON: gettext_lazy("Due soon"),
    clocks.OVERDUE: gettext_lazy("Overdue"),
}
SORTS = {
    "newest": gettext_lazy("Newest first"),
    "time_left": gettext_lazy("Least time left first"),
}


def apply_filters(actor: Actor, tickets: QuerySet[Ticket], params: dict[str, str]) -> QuerySet[Ticket]:
    if params.get("status") in Status.values:
        tickets = tickets.filter(status=params["status"])
    if params.get("type") in RequestType.values:
        tickets = tickets.filter(type=params["type"])
    if params.get("category", "").isdigit():
        pk = int(params["category"])
        tickets = tickets.filter(
            Q(category_id=pk) | Q(category__parent_id=pk) | Q(category__parent__parent_id=pk)
        )
    if params.get("district"):
        tickets = tickets.filter(district__code=params["district"])
    if params.get("unit", "").isdigit():
        tickets = tickets.filter(lead_unit_id=int(params["unit"]))
    keyword = params.get("q", "").strip()
    if keyword:
        # Digits typed by someone who reads the numbers in titles masked match ticket numbers only.
        if access.can_search_text_for(actor, keyword):
            tickets = tickets.filter(Q(title__icontains=keyword) | Q(number__icontains=keyword))
        else:
            tickets = tickets.filter(number__icontains=keyword)
    return tickets


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """The worklist filter's categories (indented by level), districts and units, as (value,
    label) pairs; from the reference snapshot when it is cached."""
    snap = reference.cached()
    if snap is not None:
        categories = sorted((c for c in snap.categories.values() if c.active), key=lambda c: c.code)
        districts = sorted((r for r in snap.region_ids.values() if r.kind == Region.Kind.DISTRICT), key=lambda r: r.code)
        units = snap.unit_options
    else:
        categories = list(Category.objects.filter(active=True).order_by("code"))
        districts = list(Region.objects.filter(kind=Region.Kind.DISTRICT).order_by("code"))
        units = [(str(pk), name) for pk, name in Unit.objects.filter(active=True).order_by("code").values_list("pk", "name")]
    return {
        "categories": [(str(c.pk), "　" * (min(c.level, 3) - 1) + c.name) for c in categories],
        "districts": [(d.code, d.name) for d in districts],
        "units": units,
    }


@staff_view
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    base = access.access_ticket_queryset(actor)
    tabs = [tab for tab in TABS if tab.visible_to(actor)]
    current = TABS_BY_KEY.get(request.GET.get("tab", ""))
    if current is None or current not in tabs:
        current = TABS_BY_KEY[default_tab(actor)]
    params = {key: request.GET.get(key, "").strip() for key in FILTER_KEYS}
    if params["sort"] not in SORTS:
        params["sort"] = ""
    tickets = apply_filters(actor, current.apply(actor, base), params)
    now, calendar = clock.now(), sla_services.current_calendar()
    tickets = clocks.with_deadlines(tickets, now, calendar)
    if params["warning"] in clocks.WARNING_STATES:
        tickets = tickets.filter(clocks.warning_filter(params["warning"], now, calendar))
    tickets = reference.with_ticket_relations(tickets).defer(*LIST_DEFERRED)
    if params["sort"] == "time_left":
        tickets = clocks.by_time_left(tickets)
    else:
        tickets = tickets.order_by("-created_at", "-id")
    page, rows = ticket_page(tickets, request.GET.get("page"), PAGE_SIZE)
    reference.attach_ticket_relations(rows)
    counts = tab_counts(actor, base, tabs)
    query = {k: v for k, v in params.items() if v}
    unsorted = {k: v for k, v in query.items() if k != "sort"}
    context = {
        "tabs": [(tab, counts[tab.key]) for tab in tabs],
        "current": current,
        "params": params,
        "page": page,
        "rows": rows,
        "query": urlencode({"tab": current.key, **query}),
        "sort_query": urlencode({"tab": current.key, **unsorted}),
        "filtered": bool(unsorted),
    }
    if is_htmx(request) and request.htmx.target == "worklist-table":  # type: ignore[attr-defined]
        response = render(request, "web/console/_worklist_table.html", context)
        patch_vary_headers(response, ("HX-Request", "HX-Target"))
        return response
    context.update(
        statuses=Status.choices,
        types=RequestType.choices,
        **filter_choices(),
        warnings=list(WARNING_LABELS.items()),
        sorts=list(SORTS.items()),
    )
    response = render_console(request, "web/console/worklist.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


# --- intake by an agent --------------------------------------------------------------------


@staff_view
@require_http_methods(["GET", "POST"])
def intake(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    try:
        access.access_intake(actor)
    except DomainError as exc:
        return console_error(request, exc)
    status = 200
    files_dropped = False
    if request.method == "POST":
        form = SubmissionForm(request.POST, request.FILES, with_channel=True)
        files = request.FILES.getlist("attachments")
        try:
            submission = form.to_submission(files)
            if submission is not None:
                ticket, code = actions.submit(actor, submission)
                request.session[INTAKE_DONE_KEY] = {"id": ticket.pk, "code": code}
                return redirect("web:intake_done")
            status = 422
        except DomainError as exc:
            form.add_domain_error(exc)
            status = exc.http_status
        files_dropped = bool(files)
    else:
        form = SubmissionForm(with_channel=True)
    return render_console(
        request,
        "web/console/intake.html",
        {"form": form, "files_dropped": files_dropped, "preview": preview_for_form(form)},
        status=status,
    )


@staff_view
@require_GET
def intake_done(request: HttpRequest) -> HttpResponse:
    """The number and access code of the request just taken in, for the agent to read out."""
    done = request.session.pop(INTAKE_DONE_KEY, None)
    if not done:
        return redirect("web:intake")
    actor: Actor = request.actor  # type: ignore[attr-defined]
    try:
        ticket = access.access_ticket(actor, done["id"])
    except DomainError as exc:
        return console_error(request, exc)
    # Likely duplicates: the agent opens the new ticket to merge it (as on the ticket's page).
    similar = similar_tickets(ticket) if "merge" in access.available_transitions(actor, ticket) else None
    response = render_console(
        request,
        "web/console/intake_done.html",
        {"ticket": ticket, "code": done["code"], "similar": similar},
    )
    response["Cache-Control"] = "no-store"
    return response


# --- one ticket ----------------------------------------------------------------------------


def new_action_form(name: str, ticket: Ticket, data: Any = None, files: Any = None):
    form_class = ACTION_FORMS[name]
    kwargs: dict[str, Any] = {"auto_id": f"id_{name}_%s", "initial": {}}
    if form_class is DispatchForm:
        # The routing suggestion is pre-selected; the dispatcher accepts or changes it.
        routed = routing_suggestion(ticket)
        if routed.unit is not None and not (
            ticket.status == Status.RETURNED and routed.unit.pk == ticket.lead_unit_id
        ):
            kwargs["initial"]["unit_id"] = routed.unit.pk
            kwargs["initial"]["assisting_unit_ids"] = [u.pk for u in routed.assisting]
    if issubclass(form_class, TicketForm):
        kwargs["ticket"] = ticket
    if form_class is MergeForm:
        kwargs["similar"] = similar_tickets(ticket)
    return form_class(data, files, **kwargs)


def similar_tickets(ticket: Ticket) -> list[Similar]:
    """Possible duplicates, computed once per ticket object (the panel and the form share them)."""
    cached = getattr(ticket, "_similar", None)
    if cached is None:
        cached = ticket._similar = similar_open_tickets(ticket)  # type: ignore[attr-defined]
    return cached


ACTION_LABELS = {
    "direct_answer": gettext_lazy("Answer directly"),
    "dispatch": gettext_lazy("Dispatch"),
    "sign": gettext_lazy("Sign for"),
    "return": gettext_lazy("Return"),
    "arbitrate": gettext_lazy("Reject the return and dispatch again"),
    "merge": gettext_lazy("Merge as a duplicate"),
    "assist_input": gettext_lazy("Add assisting input"),
    "reply": gettext_lazy("Reply"),
    "approve_reply": gettext_lazy("Approve the reply"),
    "reject_reply": gettext_lazy("Send the reply back"),
    "review": gettext_lazy("Review the dissatisfied rating"),
    "rate": gettext_lazy("Record return-visit rating"),
    "close": gettext_lazy("Close"),
    "request_extension": gettext_lazy("Apply for an extension"),
    "decide_extension": gettext_lazy("Decide on the extension"),
    "file_plan": gettext_lazy("File a staged-closure plan"),
    "decide_plan": gettext_lazy("Decide on the plan"),
    "record_milestone": gettext_lazy("Record a milestone"),
}

ACTION_DONE = {
    "direct_answer": gettext_lazy("Answered and closed."),
    "dispatch": gettext_lazy("Dispatched."),
    "sign": gettext_lazy("Signed for. The ticket is now in progress."),
    "return": gettext_lazy("Returned to the dispatcher."),
    "arbitrate": gettext_lazy("Return rejected: the ticket is dispatched again to the same unit."),
    "merge": gettext_lazy("Merged. The requester follows the other ticket with their own number."),
    "assist_input": gettext_lazy("Input added for the lead unit."),
    "reply": gettext_lazy("Reply sent to the requester."),
    "approve_reply": gettext_lazy("Reply approved and sent to the requester."),
    "reject_reply": gettext_lazy("Reply sent back to be rewritten."),
    "rate": gettext_lazy("Rating recorded."),
    "close": gettext_lazy("Closed."),
    "request_extension": gettext_lazy("Extension applied for; a supervisor will decide."),
    "file_plan": gettext_lazy("Plan filed; a supervisor will decide."),
    "record_milestone": gettext_lazy("Milestone recorded."),
}
DECISION_DONE = {
    ("decide_extension", True): gettext_lazy(
        "Extension approved. The requester is told the new deadline."
    ),
    ("decide_extension", False): gettext_lazy("Extension refused."),
    ("decide_plan", True): gettext_lazy("Plan approved. The ticket is now tracked against it."),
    ("decide_plan", False): gettext_lazy("Plan refused."),
}
#: Acts offered folded (a click opens them): the unit's alternatives to replying.
FOLDED_ACTIONS = frozenset({"request_extension", "file_plan"})


def staff_name(user: Any) -> str:
    if user is None:
        return ""
    profile = getattr(user, "staff_profile", None)
    return (profile.display_name if profile else "") or user.get_username()


def plan_rows(
    plans: list[StagedPlan], today: Any, files: dict[int, list[Any]] | None = None
) -> list[dict[str, Any]]:
    """The plans with their milestones (and the files recorded with each, by milestone id)."""
    files = files or {}
    rows = []
    for plan in plans:
        milestones = list(plan.milestones.all())
        done = sum(m.done_at is not None for m in milestones)
        rows.append(
            {
                "plan": plan,
                "requested_by": staff_name(plan.requested_by),
                "decided_by": staff_name(plan.decided_by),
                "milestones": [
                    {
                        "m": m,
                        "late": m.done_at is None and m.due_date < today,
                        "files": files.get(m.pk, []),
                    }
                    for m in milestones
                ],
                "done": done,
                "total": len(milestones),
            }
        )
    return rows


def time_limit_context(
    ticket: Ticket, now: Any, milestone_files: dict[int, list[Any]] | None = None
) -> dict[str, Any]:
    """Both clocks, the running one's warning, extensions, plans and supervision orders."""
    calendar = sla_services.current_calendar()
    extensions = list(ticket.extensions.all())
    plans = plan_rows(list(ticket.plans.all()), now.astimezone(SHANGHAI).date(), milestone_files)
    pending_extension = next((e for e in extensions if e.status == Decision.PENDING), None)
    if_approved = None
    if pending_extension is not None:
        due, provisional = sla_actions.extend(ticket.due_at, pending_extension.working_days)
        unit_due = (
            sla_actions.extend(ticket.unit_due_at, pending_extension.working_days)
            if ticket.unit_due_at
            else None
        )
        if_approved = {"due": due, "provisional": provisional, "unit_due": unit_due}
    ladder = supervision_levels()
    ticket_orders = list(
        ticket.supervision_orders.select_related("milestone").order_by(
            "status", "-opened_at", "-id"
        )
    ) if presence.has(ticket, "supervision_orders") else []
    orders = [
        {
            "order": order,
            "level_name": ladder[order.level].name if order.level in ladder else str(order.level),
            "late": order.status == SupervisionOrder.Status.OPEN and order.due_at < now,
        }
        for order in ticket_orders
    ]
    running = ""
    if ticket.status in AT_UNIT_STATUSES:
        running = "unit"
    elif ticket.status in clocks.AT_PLATFORM_STATUSES:
        running = "requester"
    return {
        "clock": clocks.running_clock(ticket, now, calendar),
        "running": running,
        "time_limit_days": ticket.time_limit_days + ticket.extended_days,
        # A redo (不满意重办) is handled within a fraction of the limit, from the review.
        "redo_days": redo_working_days(
            ticket.time_limit_days + ticket.extended_days, settings.MINYI_REDO_DEADLINE_FRACTION
        ) if ticket.redo_count else None,
        "extensions": [
            {
                "e": e,
                "requested_by": staff_name(e.requested_by),
                "decided_by": staff_name(e.decided_by),
            }
            for e in extensions
        ],
        "extensions_approved": sum(e.status == Decision.APPROVED for e in extensions),
        "max_extensions": MAX_EXTENSIONS,
        "pending_extension": pending_extension,
        "if_approved": if_approved,
        "plans": plans,
        "pending_plan": next(
            (p for p in plans if p["plan"].status == StagedPlan.Status.PENDING), None
        ),
        "supervision_orders": orders,
        "open_orders": sum(o.status == SupervisionOrder.Status.OPEN for o in ticket_orders),
    }


def load_time_limits(ticket: Ticket) -> None:
    """Fetch extensions and plans once; the guards and the page read the same rows."""
    prefetch_related_objects(
        [ticket],
        Prefetch(
            "extensions",
            queryset=Extension.objects.select_related(
                "reason", "requested_by__staff_profile", "decided_by__staff_profile"
            ),
        ),
        Prefetch(
            "plans",
            queryset=StagedPlan.objects.select_related(
                "requested_by__staff_profile", "decided_by__staff_profile"
            ).prefetch_related(Prefetch("milestones", queryset=Milestone.objects.order_by("seq"))),
        ),
    )


def routing_suggestion(ticket: Ticket) -> dispatch_services.Routed:
    """The routing suggestion, computed once per ticket object (form and page share it)."""
    cached = getattr(ticket, "_routing", None)
    if cached is None:
        cached = ticket._routing = dispatch_services.suggest(ticket)  # type: ignore[attr-defined]
    return cached


def staff_reply_rows(actor: Actor, ticket: Ticket, events: list[Any]) -> list[dict[str, Any]]:
    """Every reply with its outcome, state (sent, awaiting the leader, sent back), round,
    files, the leader's notes and its quality screening (for those who may see screenings)."""
    replies = presence.replies_with_files(
        ticket, ticket.replies.select_related("unit", "outcome", "author__staff_profile", "approved_by__staff_profile")
    )
    screenings = {
        row.reply_id: row for row in access_screening_queryset(actor).filter(ticket=ticket)
    } if replies and presence.has(ticket, "screenings") else {}
    notes: dict[Any, dict[str, str]] = {}
    for e in events:
        if e.kind in ("approve_reply", "reject_reply") and isinstance(e.data, dict) and e.data.get("reply"):
            note = e.note if e.kind == "reject_reply" else e.data.get("approval_note", "")
            notes.setdefault(e.data["reply"], {})[e.kind] = note
    return [
        {
            "reply": item,
            "author": staff_name(item.author),
            "approved_by": staff_name(item.approved_by),
            "approval_note": notes.get(item.pk, {}).get("approve_reply", ""),
            "reject_note": notes.get(item.pk, {}).get("reject_reply", ""),
            "files": [
                {"name": a.name, "size": a.size, "content_type": a.content_type,
                 "url": reverse("web:attachment", args=[a.token])}
                for a in item.attachments.all()
            ],
            "screening": screenings.get(item.pk),
        }
        for item in replies
    ]


def review_context(ticket: Ticket, now: Any) -> dict[str, Any]:
    """What the reviewer of a dissatisfied rating needs: the rating, and what a redo would mean
    (the unit that replied, the shorter deadline)."""
    rating = (
        ticket.ratings.filter(rating=Rating.DISSATISFIED)
        .select_related("reply__unit", "recorded_by__staff_profile")
        .order_by("-created_at", "-id")
        .first()
    )
    limit = ticket.time_limit_days + ticket.extended_days
    due = sla_services.redo_deadline(now, limit)
    return {
        "rating": rating,
        "recorded_by": staff_name(rating.recorded_by) if rating else "",
        "unit": (rating.reply.unit if rating and rating.reply.unit else ticket.lead_unit),
        "days": redo_working_days(limit, settings.MINYI_REDO_DEADLINE_FRACTION),
        "due": due.at,
        "provisional": due.provisional,
    }


# --- the requester's personal fields and calls through virtual numbers (ADR 10, issue 6) ---------

#: The requester's personal fields in the order the ticket page lists them.
CONTACT_LABELS = {
    "name": gettext_lazy("Name"),
    "phone": gettext_lazy("Phone"),
    "email": gettext_lazy("E-mail"),
    "id_number": gettext_lazy("ID number"),
    "address": gettext_lazy("Address"),
}


def reveal_form(field: str, data: Any = None) -> RevealForm:
    return RevealForm(data, initial={"field": field}, auto_id=f"id_reveal_{field}_%s")


def contact_rows(contact: dict[str, Any], reveal: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Each personal field as `access.access_requester_contact` gives it (clear, masked or
    empty by role), with a reveal form for the fields `actor` may reveal; `reveal` carries a
    value just revealed (`{"value": ...}`) or a refused form (`{"form": ...}`) by field."""
    reveal = reveal or {}
    rows = []
    for field, label in CONTACT_LABELS.items():
        here = reveal.get(field, {})
        form = here.get("form")
        if form is None and field in contact["revealable"]:
            form = reveal_form(field)
        rows.append(
            {
                "field": field,
                "label": label,
                "value": contact[field],
                "revealed": here.get("value"),
                "form": None if "value" in here else form,
            }
        )
    return rows


def call_duration(seconds: int | None) -> str:
    """A call's talk time as the page shows it."""
    if seconds is None:
        return "—"
    minutes, rest = divmod(int(seconds), 60)
    return _("%(m)d min %(s)02d s") % {"m": minutes, "s": rest} if minutes else _("%(s)d s") % {"s": rest}


def choice_label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


#: A call's result as the call card names it.
CALL_RESULTS = {
    **dict(CallRecord.Result.choices),
    CallRecord.Result.ANSWERED.value: pgettext_lazy("call result", "Answered"),
}


def call_context(actor: Actor, ticket: Ticket, *, alert: str = "") -> dict[str, Any] | None:
    """The call card: for the lead unit's handlers and leaders while the unit holds the ticket,
    the button (or why they may not call) and their live binding; for everyone who sees the
    ticket, its calls (who called, when, how long; never a number). None: nothing to show."""
    records = list(
        CallRecord.objects.filter(ticket=ticket)
        .select_related("binding__handler__staff_profile")
        .order_by("started_at", "id")
    ) if presence.has(ticket, "calls") else []
    offer = access.can_offer_call(actor, ticket)
    if not offer and not records:
        return None
    refusal = calls_access.refusal(actor, ticket) if offer else None
    binding = None
    if offer and presence.has(ticket, "call_bindings"):
        binding = (
            Binding.objects.select_related("number")
            .filter(ticket=ticket, handler=actor.user, active=True, expires_at__gt=clock.now())
            .first()
        )
    return {
        "offer": offer,
        "can_call": offer and refusal is None,
        "why_not": str(refusal.message) if refusal is not None else "",
        "why_not_code": refusal.code if refusal is not None else "",
        "binding": binding,
        "alert": alert,
        "calls": [
            {
                "record": record,
                # The handler by name (staff know each other); the requester by role only.
                "caller": staff_name(record.binding.handler)
                if record.caller_role == CallRecord.Caller.HANDLER
                else choice_label(CallRecord.Caller, record.caller_role),
                "caller_role": record.caller_role,
                "direction": choice_label(CallRecord.Direction, record.direction),
                "result": str(CALL_RESULTS.get(record.result, record.result)),
                "duration": call_duration(record.duration_seconds),
            }
            for record in records
        ],
    }


def ticket_context(
    request: HttpRequest,
    ticket: Ticket,
    *,
    failed: tuple[str, Any] | None = None,
    alert: str = "",
    reveal: dict[str, dict[str, Any]] | None = None,
    unfold: str = "",
) -> dict[str, Any]:
    """What the ticket page shows. The folded action forms (extension, staged plan: rarely
    used, long) are not built: the page loads one when it is unfolded (`ticket_action_form`),
    or shows it unfolded when it failed or is named by `unfold` (`?open=`, without scripts)."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    unfold = unfold or request.GET.get("open", "")
    load_time_limits(ticket)
    available = access.available_transitions(actor, ticket)
    # The unit leader approves or sends back a reply in one form with two buttons.
    together = "approve_reply" in available and "reject_reply" in available
    action_forms = []
    for name in available:
        if together and name == "reject_reply":
            continue
        failed_here = bool(failed and (failed[0] == name or (together and name == "approve_reply" and failed[0] == "reject_reply")))
        folded = name in FOLDED_ACTIONS and not failed_here and name != unfold
        form = None if folded else failed[1] if failed and failed_here else new_action_form(name, ticket)
        action_forms.append(
            {
                "name": name,
                "label": ACTION_LABELS.get(name, name),
                "form": form,
                "decision": isinstance(form, DecisionForm),
                "multipart": form is not None and form.is_multipart(),
                "folded": folded,
                "lazy": folded,
                "foldable": name in FOLDED_ACTIONS,
                "with_reject": together and name == "approve_reply",
            }
        )
    events = list(staff_timeline(ticket))
    timeline = [
        {
            "label": event_label(e.kind),
            "kind": e.kind,
            # The requester, the public and the system have no name: their role says it all.
            "actor": e.actor_label if e.actor_id is not None else "",
            "role": role_text(e.actor_role),
            "unit": e.unit.name if e.unit else "",
            "from_status": e.from_status,
            "to_status": e.to_status,
            "note": e.note,
            "data": e.data,
            "public": e.public,
            "created_at": e.created_at,
        }
        for e in events
    ]
    attachments = [a for a in ticket.attachments.all() if a.reply_id is None]
    by_token = {a.token: a for a in attachments}
    milestone_files = {
        e.data["milestone"]: [by_token[t] for t in e.data.get("attachments", []) if t in by_token]
        for e in events
        if e.kind == "milestone_done" and isinstance(e.data, dict) and e.data.get("milestone")
    }
    now = clock.now()
    limits = time_limit_context(ticket, now, milestone_files)
    supervisor = can_supervise(actor)
    failed_order = failed[1] if failed and failed[0].startswith("order:") else None
    for row in limits["supervision_orders"]:
        add_order_forms(actor, row, supervisor, failed_order if failed and failed[0] == f"order:{row['order'].pk}" else None)
    reply_rows = staff_reply_rows(actor, ticket, events)
    pending = next((r for r in reply_rows if r["reply"].state == ReplyState.PENDING_APPROVAL), None)
    contact = access.access_requester_contact(actor, ticket)
    supervise_form = None
    if supervisor and ticket.lead_unit_id is not None:
        supervise_form = failed[1] if failed and failed[0] == "supervise" else SuperviseForm(auto_id="id_supervise_%s")
    return {
        "ticket": ticket,
        "routing": routing_suggestion(ticket) if "dispatch" in available or "arbitrate" in available else None,
        "similar": similar_tickets(ticket) if "merge" in available else None,
        "merged_tickets": list(ticket.merged_tickets.order_by("id").only("id", "number", "title"))
        if presence.has(ticket, "merged_tickets") else [],
        "assist_inputs": list(ticket.assist_inputs.select_related("unit")) if presence.has(ticket, "assist_inputs") else [],
        "contact": contact,
        "contact_rows": contact_rows(contact, reveal),
        "call": call_context(actor, ticket),
        "assisting_units": list(ticket.assisting_units.all()),
        "attachments": attachments,
        "staff": True,
        "replies": reply_rows,
        "pending_reply": pending,
        "reply_needs_approval": ticket.escalated and workflow.role_for("reply", actor.roles) != Role.UNIT_LEADER,
        "ratings": list(ticket.ratings.select_related("reply", "recorded_by__staff_profile"))
        if presence.has(ticket, "ratings") else [],
        "reviews": [
            {"review": r, "reviewer": staff_name(r.reviewer)}
            for r in ticket.reviews.select_related("reviewer__staff_profile", "unit").order_by("decided_at", "id")
        ] if presence.has(ticket, "reviews") else [],
        "review_info": review_context(ticket, now) if "review" in available else None,
        "supervise_form": supervise_form,
        "timeline": timeline,
        "actions": action_forms,
        "alert": alert,
        **limits,
    }


@staff_view
@require_GET
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    try:
        ticket = access.access_ticket(request.actor, ticket_id, present=True)  # type: ignore[attr-defined]
    except DomainError as exc:
        return console_error(request, exc)
    return render_console(request, "web/console/ticket.html", ticket_context(request, ticket))


def perform(actor: Actor, ticket_id: int, name: str, form, files: list[Any]) -> str:
    """Call the action `name` with the form's values; it checks everything. Returns the
    message to show when it is done."""
    data = form.cleaned_data
    if name == "dispatch":
        values = form.values()
        actions.dispatch(
            actor,
            ticket_id,
            values["unit_id"],
            assisting_unit_ids=values["assisting_unit_ids"],
            note=values["note"],
        )
    elif name == "sign":
        actions.sign(actor, ticket_id, note=data.get("note") or "")
    elif name == "return":
        actions.return_ticket(
            actor,
            ticket_id,
            reason_code=data.get("reason_code") or "",
            note=data.get("note") or "",
            legal_basis=data.get("legal_basis") or "",
        )
    elif name == "arbitrate":
        actions.arbitrate(actor, ticket_id, note=data.get("note") or "")
    elif name == "merge":
        number = (data.get("into_number") or "").strip()
        if number:
            into_id = access.access_ticket_id_by_number(actor, number)
            if into_id is None:
                raise InvalidInput(_("There is no such ticket to merge into."), "invalid_target", field="into_number")
        else:
            try:
                into_id = int(data.get("into_id") or 0)
            except ValueError:
                into_id = 0
        actions.merge(actor, ticket_id, into_id, data.get("note") or "")
    elif name == "assist_input":
        actions.assist_input(actor, ticket_id, text=data.get("text") or "")
    elif name == "reply":
        actions.reply(
            actor, ticket_id, data.get("text") or "", outcome=data.get("outcome") or "",
            files=clean_files(files, field="reply_files"),
        )
        if Ticket.objects.filter(pk=ticket_id, status=Status.PENDING_APPROVAL).exists():
            return str(_("Reply saved; it reaches the requester once the unit leader approves it."))
    elif name == "approve_reply":
        feedback_actions.approve_reply(actor, ticket_id, note=data.get("note") or "")
    elif name == "reject_reply":
        feedback_actions.reject_reply(actor, ticket_id, note=data.get("note") or "")
    elif name == "review":
        ticket = feedback_actions.review(
            actor, ticket_id, decision=data.get("decision") or "", explanation=data.get("explanation") or ""
        )
        if ticket.status == Status.IN_PROGRESS:
            return str(_("Sent back to the same unit to be handled again, with a shorter deadline; its reply needs the unit leader's approval."))
        return str(_("Closed. The requester reads your explanation."))
    elif name == "direct_answer":
        actions.direct_answer(actor, ticket_id, data.get("text") or "")
    elif name == "rate":
        actions.rate(
            actor, ticket_id, rating=data.get("rating") or "", comment=data.get("comment") or "",
            visit_note=data.get("visit_note") or "",
        )
    elif name == "close":
        actions.close(actor, ticket_id, note=data.get("note") or "")
    elif name == "request_extension":
        sla_actions.request_extension(
            actor,
            ticket_id,
            reason_code=data.get("reason_code") or "",
            working_days=data.get("working_days"),
            explanation=data.get("explanation") or "",
        )
    elif name in ("decide_extension", "decide_plan"):
        approve = form.approve()
        decide = (
            sla_actions.decide_extension if name == "decide_extension" else sla_actions.decide_plan
        )
        decide(actor, ticket_id, approve=approve, note=data.get("note") or "")
        return str(DECISION_DONE[(name, approve)])
    elif name == "file_plan":
        sla_actions.file_plan(
            actor,
            ticket_id,
            explanation=data.get("explanation") or "",
            milestones=form.milestone_rows(),
        )
    elif name == "record_milestone":
        sla_actions.record_milestone(
            actor,
            ticket_id,
            milestone_id=data.get("milestone_id"),
            evidence=data.get("evidence") or "",
            files=files,
        )
    else:  # pragma: no cover - the URL only routes known names
        raise Http404
    return str(ACTION_DONE[name])


@staff_view
@require_POST
def ticket_action(request: HttpRequest, ticket_id: int, transition: str) -> HttpResponse:
    """One transition, posted by the action's form; re-renders the ticket panel."""
    if transition not in ACTION_FORMS:
        raise Http404
    actor: Actor = request.actor  # type: ignore[attr-defined]
    try:
        ticket = access.access_ticket(actor, ticket_id)
    except DomainError as exc:
        return console_error(request, exc)
    form = new_action_form(transition, ticket, request.POST, request.FILES)
    form.is_valid()  # lenient fields: this only collects the values
    upload_field = {"record_milestone": "evidence_files", "reply": "reply_files"}.get(transition)
    files = request.FILES.getlist(upload_field) if upload_field else []
    try:
        done = perform(actor, ticket.pk, transition, form, files)
    except DomainError as exc:
        alert = ""
        if isinstance(exc, InvalidInput) or exc.field:
            form.add_domain_error(exc)
        else:
            alert = str(exc.message)
        try:
            ticket = access.access_ticket(actor, ticket_id, present=True)  # the current state, after a refusal
        except DomainError as again:
            return console_error(request, again)
        context = ticket_context(request, ticket, failed=(transition, form), alert=alert)
        if is_htmx(request):
            return render(
                request, "web/console/_ticket_panel.html", context, status=exc.http_status
            )
        return render_console(request, "web/console/ticket.html", context, status=exc.http_status)
    messages.success(request, done)
    if not is_htmx(request):
        return redirect("web:ticket", ticket_id=ticket_id)
    try:
        ticket = access.access_ticket(actor, ticket_id, present=True)
    except NotFound:
        return HttpResponseClientRedirect(reverse("web:worklist"))
    return render(request, "web/console/_ticket_panel.html", ticket_context(request, ticket))


@staff_view
@require_GET
def ticket_action_form(request: HttpRequest, ticket_id: int, transition: str) -> HttpResponse:
    """One folded action form of the ticket page, loaded when it is unfolded."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    try:
        ticket = access.access_ticket(actor, ticket_id, present=True)
    except DomainError as exc:
        return console_error(request, exc)
    context = ticket_context(request, ticket, unfold=transition)
    action = next((a for a in context["actions"] if a["name"] == transition and a["form"] is not None), None)
    if action is None:
        return console_error(request, Conflict(_("This action is not open to you on this ticket now."), "invalid_state"))
    return render(request, "web/console/_action_form.html", {**context, "action": action})


@staff_view
@require_GET
def attachment(request: HttpRequest, token: str) -> HttpResponseBase:
    """An attachment, to staff who may see its ticket."""
    try:
        item = access.access_attachment(request.actor, token)  # type: ignore[attr-defined]
    except DomainError as exc:
        return console_error(request, exc)
    response = FileResponse(
        item.file.open("rb"), content_type=item.content_type, filename=item.name
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- notifications -------------------------------------------------------------------------


@staff_view
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first; showing them marks them read."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    items = (
        Notification.objects.filter(
            user=actor.user, ticket__in=access.access_ticket_queryset(actor).values("pk")
        )
        .select_related("ticket", "event", "event__unit")
        .order_by("-created_at", "-id")
    )
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    unread = [n.pk for n in rows if n.read_at is None]
    if unread:
        Notification.objects.filter(pk__in=unread, user=actor.user).update(read_at=clock.now())
    return render_console(
        request,
        "web/console/notifications.html",
        {"page": page, "rows": [(n, n.pk in unread) for n in rows]},
    )


# --- returns (退单) and their outcomes per unit -------------------------------------------------


@staff_view
@require_GET
def returns(request: HttpRequest) -> HttpResponse:
    """Returns per unit and how the dispatcher ruled: upheld, rejected (arbitration), pending."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    asked = request.GET.get("unit", "").strip()
    try:
        unit_id = access.access_unit_scope(actor, int(asked) if asked.isdigit() else None)
    except DomainError as exc:
        return console_error(request, exc)
    return render_console(
        request,
        "web/console/returns.html",
        {
            "nav": "returns",
            "rows": dispatch_services.return_counts(unit_id),
            "window_hours": settings.MINYI_RETURN_WINDOW_OFFICE_HOURS,
        },
    )


# --- supervision orders ----------------------------------------------------------------------

SUPERVISION_STATES = {
    "open": pgettext_lazy("supervision order", "Open"),
    "closed": pgettext_lazy("supervision order", "Closed"),
    "all": gettext_lazy("All"),
}


def add_order_forms(actor: Actor, row: dict[str, Any], supervisor: bool, failed: Any = None) -> None:
    """The forms an order offers `actor`: the supervised unit's staff answer an open order, a
    supervisor closes it (the actions check both again)."""
    order = row["order"]
    is_open = order.status == SupervisionOrder.Status.OPEN
    own_unit = can_answer_order(actor, order)
    row["answer_form"] = row["close_form"] = None
    if is_open and own_unit:
        row["answer_form"] = (
            failed if isinstance(failed, OrderAnswerForm) else OrderAnswerForm(auto_id=f"id_answer_{order.pk}_%s")
        )
    if is_open and supervisor:
        row["close_form"] = (
            failed if isinstance(failed, OrderCloseForm) else OrderCloseForm(auto_id=f"id_close_{order.pk}_%s")
        )


def order_row(order: SupervisionOrder, ladder: dict[int, Any], now: Any, calendar: Any) -> dict[str, Any]:
    return {
        "order": order,
        "level_name": ladder[order.level].name if order.level in ladder else str(order.level),
        "late": order.status == SupervisionOrder.Status.OPEN and order.due_at < now,
        "clock": clocks.running_clock(order.ticket, now, calendar),
        "answered_by": staff_name(order.answered_by),
    }


ORDER_SELECT = ("ticket", "unit", "milestone", "answered_by__staff_profile", "opened_by__staff_profile")


@staff_view
@require_GET
def supervision(request: HttpRequest) -> HttpResponse:
    """The supervision queue (督办): a dashboard of open orders by unit and level, then the
    orders, open ones first by their respond-by time, with the unit's answer form and the
    supervisor's close form."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    if not can_see_supervision(actor):
        return console_error(
            request, Forbidden(_("Your role may not do this."), "role_not_allowed")
        )
    visible = access_supervision_queryset(actor)
    orders = visible
    city_wide = sees_all_orders(actor)
    params = {key: request.GET.get(key, "").strip() for key in ("state", "level", "unit", "cause")}
    if params["state"] not in SUPERVISION_STATES:
        params["state"] = "open"
    if params["state"] != "all":
        orders = orders.filter(status=params["state"])
    if params["level"].isdigit():
        orders = orders.filter(level=int(params["level"]))
    if city_wide and params["unit"].isdigit():
        orders = orders.filter(unit_id=int(params["unit"]))
    if params["cause"] in SupervisionOrder.Cause.values:
        orders = orders.filter(cause=params["cause"])
    if params["state"] == "open":
        orders = orders.order_by("due_at", "id")
    else:
        orders = orders.order_by("-opened_at", "-id")
    orders = orders.select_related(*ORDER_SELECT)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    now = clock.now()
    ladder = {lv.level: lv for lv in SupervisionLevel.objects.all()}
    calendar = sla_services.current_calendar()
    supervisor = can_supervise(actor)
    rows = []
    for order in page.object_list:
        row = order_row(order, ladder, now, calendar)
        add_order_forms(actor, row, supervisor)
        rows.append(row)
    board = dashboard(visible, now)
    for item in board["rows"]:
        item["cells"] = [
            {"level": lv["level"], "name": lv["name"], "n": item["levels"].get(str(lv["level"]), 0)}
            for lv in board["levels"]
        ]
    board["level_totals"] = [
        sum(item["levels"].get(str(lv["level"]), 0) for item in board["rows"]) for lv in board["levels"]
    ]
    query = {k: v for k, v in params.items() if v and not (k == "unit" and not city_wide)}
    return render_console(
        request,
        "web/console/supervision.html",
        {
            "nav": "supervision",
            "page": page,
            "rows": rows,
            "board": board,
            "params": params,
            "query": urlencode(query),
            "states": list(SUPERVISION_STATES.items()),
            "levels": list(ladder.values()),
            "causes": SupervisionOrder.Cause.choices,
            "units": Unit.objects.filter(active=True).order_by("code") if city_wide else [],
            "city_wide": city_wide,
            "any_forms": any(r["answer_form"] or r["close_form"] for r in rows),
        },
    )


ORDER_FORMS: dict[str, type[forms.Form]] = {"answer": OrderAnswerForm, "close": OrderCloseForm}
ORDER_DONE = {
    "answer": gettext_lazy("Answer sent. The order stays open until a supervisor closes it or its cause is resolved."),
    "close": gettext_lazy("Supervision order closed."),
}


@staff_view
@require_POST
def order_action(request: HttpRequest, order_id: int, act: str) -> HttpResponse:
    """Answer (the supervised unit) or close (a supervisor) an order, from the supervision page
    (re-renders the order's row) or from the ticket page (`from=ticket`: the ticket panel)."""
    if act not in ORDER_FORMS:
        raise Http404
    actor: Actor = request.actor  # type: ignore[attr-defined]
    try:
        order = access_order(actor, order_id)
    except DomainError as exc:
        return console_error(request, exc)
    form = ORDER_FORMS[act](request.POST, auto_id=f"id_{act}_{order_id}_%s")
    form.is_valid()
    alert, failed, status, done = "", None, 200, ""
    try:
        if act == "answer":
            supervision_actions.answer(actor, order_id, text=form.cleaned_data.get("text") or "")
        else:
            supervision_actions.close_by_hand(actor, order_id, note=form.cleaned_data.get("note") or "")
    except DomainError as exc:
        if isinstance(exc, InvalidInput) or exc.field:
            form.add_domain_error(exc)  # type: ignore[attr-defined]
        else:
            alert = str(exc.message)
        failed, status = form, exc.http_status
    else:
        done = str(ORDER_DONE[act])
    from_ticket = request.POST.get("from") == "ticket"
    if done and (from_ticket or not is_htmx(request)):
        messages.success(request, done)
    if not is_htmx(request):
        if failed is not None:
            messages.error(request, alert or " ".join(str(e) for errors in form.errors.values() for e in errors))
        if from_ticket:
            return redirect("web:ticket", ticket_id=order.ticket_id)
        return redirect("web:supervision")
    if from_ticket:
        try:
            ticket = access.access_ticket(actor, order.ticket_id, present=True)
        except DomainError as exc:
            return console_error(request, exc)
        context = ticket_context(
            request, ticket, failed=(f"order:{order_id}", failed) if failed is not None else None, alert=alert
        )
        return render(request, "web/console/_ticket_panel.html", context, status=status)
    order = access_supervision_queryset(actor).select_related(*ORDER_SELECT).get(pk=order_id)
    row = order_row(order, supervision_levels(), clock.now(), sla_services.current_calendar())
    add_order_forms(actor, row, can_supervise(actor), failed)
    return render(
        request, "web/console/_order_row.html",
        {"row": row, "alert": alert, "done": done, "any_forms": True}, status=status,
    )


@staff_view
@require_POST
def supervise(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """A supervisor opens a supervision order on the ticket (人工督办), from its page."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    try:
        ticket = access.access_ticket(actor, ticket_id)
    except DomainError as exc:
        return console_error(request, exc)
    form = SuperviseForm(request.POST, auto_id="id_supervise_%s")
    form.is_valid()
    try:
        supervision_actions.open_manual(actor, ticket.pk, **form.values())
    except DomainError as exc:
        alert = ""
        if isinstance(exc, InvalidInput) or exc.field:
            form.add_domain_error(exc)
        else:
            alert = str(exc.message)
        try:
            ticket = access.access_ticket(actor, ticket_id, present=True)
        except DomainError as again:
            return console_error(request, again)
        context = ticket_context(request, ticket, failed=("supervise", form), alert=alert)
        if is_htmx(request):
            return render(request, "web/console/_ticket_panel.html", context, status=exc.http_status)
        return render_console(request, "web/console/ticket.html", context, status=exc.http_status)
    messages.success(request, _("Supervision order opened. The unit must answer it by its deadline."))
    if not is_htmx(request):
        return redirect("web:ticket", ticket_id=ticket_id)
    ticket = access.access_ticket(actor, ticket_id, present=True)
    return render(request, "web/console/_ticket_panel.html", ticket_context(request, ticket))


# --- the review of dissatisfied ratings (满意度审核) ---------------------------------------------


@staff_view
@require_GET
def reviews(request: HttpRequest) -> HttpResponse:
    """Tickets whose reply was rated dissatisfied, waiting longest first; each links to the
    ticket, where the review form is. Below, the latest decisions."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    if not access.can_review(actor):
        return console_error(request, Forbidden(_("Your role may not do this."), "role_not_allowed"))
    visible = access.access_ticket_queryset(actor)
    waiting = (
        visible.filter(status=Status.UNDER_REVIEW)
        .annotate(rated_at=Max("ratings__created_at", filter=Q(ratings__rating=Rating.DISSATISFIED)))
        .select_related("lead_unit", "category")
        .order_by("rated_at", "id")
    )
    page = Paginator(waiting, PAGE_SIZE).get_page(request.GET.get("page"))
    tickets = list(page.object_list)
    latest: dict[int, TicketRating] = {}
    for rating in (
        TicketRating.objects.filter(ticket__in=[t.pk for t in tickets], rating=Rating.DISSATISFIED)
        .select_related("reply__unit", "reply__outcome")
        .order_by("created_at", "id")
    ):
        latest[rating.ticket_id] = rating
    rows = [{"ticket": t, "rating": latest.get(t.pk)} for t in tickets]
    decided = (
        RatingReview.objects.filter(ticket__in=visible.values("pk"))
        .select_related("ticket", "unit", "reviewer__staff_profile")
        .order_by("-decided_at", "-id")[:20]
    )
    return render_console(
        request,
        "web/console/reviews.html",
        {
            "nav": "reviews",
            "page": page,
            "rows": rows,
            "decided": [{"review": r, "reviewer": staff_name(r.reviewer)} for r in decided],
        },
    )


# --- quality screening of replies (回复质量) ------------------------------------------------------

QUALITY_STATES = {
    ReplyScreening.State.FLAGGED.value: gettext_lazy("Awaiting a decision"),
    ReplyScreening.State.CONFIRMED.value: gettext_lazy("Confirmed"),
    ReplyScreening.State.DISMISSED.value: gettext_lazy("Dismissed"),
    "all": gettext_lazy("All"),
}
SCREENING_SELECT = (
    "ticket", "unit", "reply__outcome", "reply__unit", "decided_by__staff_profile", "order"
)


def screening_row(row: ReplyScreening, supervisor: bool, form: Any = None) -> dict[str, Any]:
    flagged = row.state == ReplyScreening.State.FLAGGED
    return {
        "s": row,
        "findings": [f for f in (row.findings or []) if isinstance(f, dict)],
        "relevance": round(row.relevance * 100),
        "decided_by": staff_name(row.decided_by),
        "form": (form or ScreeningDecisionForm(auto_id=f"id_screening_{row.pk}_%s"))
        if supervisor and flagged else None,
    }


@staff_view
@require_GET
def quality(request: HttpRequest) -> HttpResponse:
    """Replies flagged by quality screening, and why; a supervisor confirms (a quality order,
    a new reply) or dismisses each with a note. Units see their own replies' findings."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    if not can_see_supervision(actor):
        return console_error(request, Forbidden(_("Your role may not do this."), "role_not_allowed"))
    state = request.GET.get("state", "").strip()
    if state not in QUALITY_STATES:
        state = ReplyScreening.State.FLAGGED
    rows = access_screening_queryset(actor).exclude(state=ReplyScreening.State.CLEAN)
    if state != "all":
        rows = rows.filter(state=state)
    rows = rows.select_related(*SCREENING_SELECT).order_by("-screened_at", "-id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    supervisor = can_supervise(actor)
    return render_console(
        request,
        "web/console/quality.html",
        {
            "nav": "quality",
            "page": page,
            "rows": [screening_row(r, supervisor) for r in page.object_list],
            "state": state,
            "states": list(QUALITY_STATES.items()),
            "query": urlencode({"state": state}),
        },
    )


SCREENING_DONE = {
    "confirm": gettext_lazy("Finding confirmed: a quality supervision order is open and the unit must reply anew."),
    "dismiss": gettext_lazy("Finding dismissed."),
}


@staff_view
@require_POST
def quality_decide(request: HttpRequest, screening_id: int, decision: str) -> HttpResponse:
    """Confirm or dismiss a quality finding (the two buttons of one form)."""
    if decision not in SCREENING_DONE:
        raise Http404
    actor: Actor = request.actor  # type: ignore[attr-defined]
    visible = access_screening_queryset(actor).select_related(*SCREENING_SELECT)
    if not visible.filter(pk=screening_id).exists():
        return console_error(request, NotFound(_("No such quality finding."), "screening_not_found"))
    form = ScreeningDecisionForm(request.POST, auto_id=f"id_screening_{screening_id}_%s")
    form.is_valid()
    decide = screening.confirm if decision == "confirm" else screening.dismiss
    alert, failed, status, done = "", None, 200, ""
    try:
        decide(actor, screening_id, note=form.cleaned_data.get("note") or "")
    except DomainError as exc:
        if isinstance(exc, InvalidInput) or exc.field:
            form.add_domain_error(exc)
        else:
            alert = str(exc.message)
        failed, status = form, exc.http_status
    else:
        done = str(SCREENING_DONE[decision])
    if not is_htmx(request):
        if failed is not None:
            messages.error(request, alert or " ".join(str(e) for errors in form.errors.values() for e in errors))
        else:
            messages.success(request, done)
        return redirect(f"{reverse('web:quality')}#screening-{screening_id}")
    row = screening_row(visible.get(pk=screening_id), can_supervise(actor), failed)
    return render(
        request, "web/console/_screening.html", {"row": row, "alert": alert, "done": done}, status=status
    )


# --- figures of the feedback loop per unit ----------------------------------------------------------

PERIODS = {
    "30": gettext_lazy("Last 30 days"),
    "90": gettext_lazy("Last 90 days"),
    "365": gettext_lazy("Last 12 months"),
    "all": gettext_lazy("All time"),
}


@staff_view
@require_GET
def feedback_figures(request: HttpRequest) -> HttpResponse:
    """Per unit: replies, ratings by grade, unrated closures, redos and the satisfaction rate.
    A unit's staff see their own unit only."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    asked = request.GET.get("unit", "").strip()
    try:
        unit_id = access.access_unit_scope(actor, int(asked) if asked.isdigit() else None)
    except DomainError as exc:
        return console_error(request, exc)
    period = request.GET.get("period", "").strip()
    if period not in PERIODS:
        period = "all"
    since = clock.now() - dt.timedelta(days=int(period)) if period.isdigit() else None
    rows = unit_feedback(unit_id, since)
    keys = ("replies", "satisfied", "basically_satisfied", "dissatisfied", "unrated", "redos")
    totals: dict[str, Any] = {key: sum(r[key] for r in rows) for key in keys}
    rated = totals["satisfied"] + totals["basically_satisfied"] + totals["dissatisfied"]
    totals["satisfaction_rate"] = (
        (totals["satisfied"] + totals["basically_satisfied"]) / rated if rated else None
    )
    for row in [*rows, totals]:
        rate = row["satisfaction_rate"]
        row["rate_pct"] = f"{rate * 100:.1f}%" if rate is not None else "—"
    return render_console(
        request,
        "web/console/feedback.html",
        {
            "nav": "feedback",
            "rows": rows,
            "totals": totals,
            "period": period,
            "periods": list(PERIODS.items()),
            "unit": unit_id,
            "units": Unit.objects.filter(active=True).order_by("code") if actor.city_wide else [],
            "window_days": settings.MINYI_RATING_WINDOW_WORKING_DAYS,
        },
    )
