"""The citizen portal and the staff console: thin views over `access`, `intake` and `actions`.

Views read through `minyi.tickets.access` and change tickets only through
`minyi.tickets.actions`; a refusal (`DomainError`) becomes a form error or an alert.
HTMX requests get the fragment they target; without JavaScript every form still works
(POST, then redirect).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from minyi.core import clock
from minyi.core.errors import DomainError, InvalidInput, NotFound, RateLimited
from minyi.core.ratelimit import check_rate
from minyi.org.actors import Actor, actor_for_user, requester_actor
from minyi.org.models import UNIT_ROLES, Category, Region, Role, Unit
from minyi.sla.policies import TIME_LIMIT_DAYS, URGENT_HOURS
from minyi.tickets import access, actions, workflow
from minyi.tickets.choices import OPEN_STATUSES, Channel, RequestType, Status
from minyi.tickets.models import Notification, Ticket
from minyi.tickets.timeline import event_label, public_timeline, staff_timeline
from minyi.web.forms import (
    ACTION_FORMS,
    DispatchForm,
    RateForm,
    SubmissionForm,
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
        {"form": form, "files_dropped": files_dropped, "type_limits": time_limits()},
        status=status,
    )


def time_limits() -> list[tuple[str, str]]:
    """The time limits of `minyi.sla.policies`, as the portal states them."""
    rows = [
        (
            _("Urgent (life or property at risk)"),
            ngettext("handled within %(n)d hour", "handled within %(n)d hours", URGENT_HOURS)
            % {"n": URGENT_HOURS},
        )
    ]
    by_days: dict[int, list[str]] = {}
    for request_type in RequestType:
        by_days.setdefault(TIME_LIMIT_DAYS[request_type], []).append(str(request_type.label))
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


def track_context(
    ticket: Ticket, rate_form: RateForm | None = None, alert: str = ""
) -> dict[str, Any]:
    can_rate = ticket.status == Status.REPLIED
    return {
        "ticket": ticket,
        "timeline": public_timeline(ticket),
        "replies": list(ticket.replies.select_related("unit")),
        "ratings": list(ticket.ratings.all()),
        "can_rate": can_rate,
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
        actor = actor_for_user(request.user)
        try:
            access.require_staff(actor)
        except DomainError as exc:
            return console_error(request, exc)
        request.actor = actor  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def header_context(request: HttpRequest) -> dict[str, Any]:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    unit = Unit.objects.filter(pk=actor.unit_id).only("name").first() if actor.unit_id else None
    unread = Notification.objects.filter(
        user=actor.user,
        read_at__isnull=True,
        ticket__in=access.access_ticket_queryset(actor).values("pk"),
    ).count()
    return {
        "me": {
            "label": actor.label,
            "roles": [role_text(r) for r in sorted(actor.roles)],
            "unit": unit.name if unit else "",
            "is_admin": actor.has(Role.ADMIN) or request.user.is_staff,
            "can_intake": workflow.role_for("submit", actor.roles) is not None,
            "unread": unread,
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

    def apply(self, actor: Actor, tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
        if self.statuses is not None:
            tickets = tickets.filter(status__in=self.statuses)
        if self.own_unit and not actor.city_wide:
            tickets = tickets.filter(lead_unit_id=actor.unit_id)
        return tickets


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


FILTER_KEYS = ("status", "type", "category", "district", "unit", "q")


def apply_filters(tickets: QuerySet[Ticket], params: dict[str, str]) -> QuerySet[Ticket]:
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
        tickets = tickets.filter(Q(title__icontains=keyword) | Q(number__icontains=keyword))
    return tickets


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
    tickets = apply_filters(current.apply(actor, base), params)
    tickets = tickets.select_related("category", "district", "street", "lead_unit").order_by(
        "-created_at", "-id"
    )
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    now = clock.now()
    rows = list(page.object_list)
    for ticket in rows:
        ticket.overdue = ticket.status in OPEN_STATUSES and ticket.due_at < now  # type: ignore[attr-defined]
    query = {k: v for k, v in params.items() if v}
    context = {
        "tabs": [(tab, tab.apply(actor, base).count()) for tab in tabs],
        "current": current,
        "params": params,
        "page": page,
        "rows": rows,
        "query": urlencode({"tab": current.key, **query}),
        "filtered": bool(query),
    }
    if is_htmx(request) and request.htmx.target == "worklist-table":  # type: ignore[attr-defined]
        response = render(request, "web/console/_worklist_table.html", context)
        patch_vary_headers(response, ("HX-Request", "HX-Target"))
        return response
    context.update(
        statuses=Status.choices,
        types=RequestType.choices,
        categories=Category.objects.filter(active=True).order_by("code"),
        districts=Region.objects.filter(kind=Region.Kind.DISTRICT).order_by("code"),
        units=Unit.objects.filter(active=True).order_by("code"),
    )
    response = render_console(request, "web/console/worklist.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


# --- intake by an agent --------------------------------------------------------------------


@staff_view
@require_http_methods(["GET", "POST"])
def intake(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    if workflow.role_for("submit", actor.roles) is None:
        return console_error(
            request, access.Forbidden(_("Your role may not do this."), "role_not_allowed")
        )
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
        {"form": form, "files_dropped": files_dropped},
        status=status,
    )


@staff_view
@require_GET
def intake_done(request: HttpRequest) -> HttpResponse:
    """The number and access code of the request just taken in, for the agent to read out."""
    done = request.session.pop(INTAKE_DONE_KEY, None)
    if not done:
        return redirect("web:intake")
    try:
        ticket = access.access_ticket(request.actor, done["id"])  # type: ignore[attr-defined]
    except DomainError as exc:
        return console_error(request, exc)
    response = render_console(
        request, "web/console/intake_done.html", {"ticket": ticket, "code": done["code"]}
    )
    response["Cache-Control"] = "no-store"
    return response


# --- one ticket ----------------------------------------------------------------------------


def new_action_form(name: str, ticket: Ticket, data: Any = None):
    form_class = ACTION_FORMS[name]
    initial = {}
    if form_class is DispatchForm and ticket.category.default_unit_id:
        initial["unit_id"] = ticket.category.default_unit_id
    return form_class(data, auto_id=f"id_{name}_%s", initial=initial)


ACTION_LABELS = {
    "direct_answer": gettext_lazy("Answer directly"),
    "dispatch": gettext_lazy("Dispatch"),
    "sign": gettext_lazy("Sign for"),
    "return": gettext_lazy("Return"),
    "reply": gettext_lazy("Reply"),
    "rate": gettext_lazy("Record return-visit rating"),
    "close": gettext_lazy("Close"),
}

ACTION_DONE = {
    "direct_answer": gettext_lazy("Answered and closed."),
    "dispatch": gettext_lazy("Dispatched."),
    "sign": gettext_lazy("Signed for. The ticket is now in progress."),
    "return": gettext_lazy("Returned to the dispatcher."),
    "reply": gettext_lazy("Reply sent to the requester."),
    "rate": gettext_lazy("Rating recorded."),
    "close": gettext_lazy("Closed."),
}


def ticket_context(
    request: HttpRequest, ticket: Ticket, *, failed: tuple[str, Any] | None = None, alert: str = ""
) -> dict[str, Any]:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    available = access.available_transitions(actor, ticket)
    action_forms = []
    for name in available:
        form = failed[1] if failed and failed[0] == name else new_action_form(name, ticket)
        action_forms.append({"name": name, "label": ACTION_LABELS.get(name, name), "form": form})
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
        for e in staff_timeline(ticket)
    ]
    now = clock.now()
    return {
        "ticket": ticket,
        "overdue": ticket.status in OPEN_STATUSES and ticket.due_at < now,
        "contact": access.access_requester_contact(actor, ticket),
        "assisting_units": list(ticket.assisting_units.all()),
        "attachments": list(ticket.attachments.all()),
        "replies": list(ticket.replies.select_related("unit")),
        "ratings": list(ticket.ratings.all()),
        "timeline": timeline,
        "actions": action_forms,
        "alert": alert,
    }


@staff_view
@require_GET
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    try:
        ticket = access.access_ticket(request.actor, ticket_id)  # type: ignore[attr-defined]
    except DomainError as exc:
        return console_error(request, exc)
    return render_console(request, "web/console/ticket.html", ticket_context(request, ticket))


def perform(actor: Actor, ticket_id: int, name: str, form) -> None:
    """Call the action `name` with the form's values; it checks everything."""
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
            actor, ticket_id, reason_code=data.get("reason_code") or "", note=data.get("note") or ""
        )
    elif name == "reply":
        actions.reply(actor, ticket_id, data.get("text") or "")
    elif name == "direct_answer":
        actions.direct_answer(actor, ticket_id, data.get("text") or "")
    elif name == "rate":
        actions.rate(
            actor, ticket_id, rating=data.get("rating") or "", comment=data.get("comment") or ""
        )
    elif name == "close":
        actions.close(actor, ticket_id, note=data.get("note") or "")
    else:  # pragma: no cover - the URL only routes known names
        raise Http404


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
    form = new_action_form(transition, ticket, request.POST)
    form.is_valid()  # lenient fields: this only collects the values
    try:
        perform(actor, ticket.pk, transition, form)
    except DomainError as exc:
        alert = ""
        if isinstance(exc, InvalidInput):
            form.add_domain_error(exc)
        else:
            alert = str(exc.message)
        try:
            ticket = access.access_ticket(actor, ticket_id)  # the current state, after a refusal
        except DomainError as again:
            return console_error(request, again)
        context = ticket_context(request, ticket, failed=(transition, form), alert=alert)
        if is_htmx(request):
            return render(
                request, "web/console/_ticket_panel.html", context, status=exc.http_status
            )
        return render_console(request, "web/console/ticket.html", context, status=exc.http_status)
    messages.success(request, str(ACTION_DONE[transition]))
    if not is_htmx(request):
        return redirect("web:ticket", ticket_id=ticket_id)
    try:
        ticket = access.access_ticket(actor, ticket_id)
    except NotFound:
        return HttpResponseClientRedirect(reverse("web:worklist"))
    return render(request, "web/console/_ticket_panel.html", ticket_context(request, ticket))


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
