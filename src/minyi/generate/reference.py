"""What the generator needs from the database, read once into plain values (picklable, so
worker processes get it without a query): the demo organisation's ids, the people who act on
tickets, reply outcomes and reasons, time limits, the settings of the clocks, and the texts the
real actions write (translated as they are at run time)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext

from minyi.generate.texts import copy_escape
from minyi.org.demo import loader, people, regions
from minyi.org.demo.history import EXTENSION_REASONS
from minyi.org.models import Category, Region, Role, StaffProfile, Unit
from minyi.sla import services
from minyi.sla.models import ExtensionReason
from minyi.supervision.actions import close_reason
from minyi.supervision.models import SupervisionLevel, SupervisionOrder
from minyi.tickets.choices import Status
from minyi.tickets.models import ReplyOutcome, ReturnReason

#: Rows the migrations create that generated tickets refer to.
REPLY_OUTCOMES = ("resolved", "partly_resolved", "explained", "planned", "referred")
RETURN_REASONS = ("wrong_locality", "not_our_remit", "unclear_ownership")

#: Platform staff of the demo who act in generated histories, with how often.
AGENTS = {"agent": 4, "demo_agent_2": 2, "demo_agent_3": 2, "demo_agent_4": 2}
DISPATCHERS = {"dispatcher": 3, "demo_dispatcher_2": 1}
SUPERVISOR = "supervisor"


def json_text(value: str) -> str:
    """A string as the inside of a JSON string literal (no quotes), ready for COPY text."""
    return copy_escape(json.dumps(value, ensure_ascii=False)[1:-1])


@dataclass(frozen=True)
class Person:
    id: int
    label: str  # the display name the timeline shows (escaped for COPY)


@dataclass
class Reference:
    districts: list[int] = field(default_factory=list)  # id of regions.DISTRICTS[i]
    streets: list[list[int]] = field(default_factory=list)  # ids of each district's streets
    units: dict[str, int] = field(default_factory=dict)  # code -> id
    unit_names: dict[int, str] = field(default_factory=dict)  # id -> full name (JSON text)
    short_names: dict[str, str] = field(default_factory=dict)  # code -> short name (plain)
    full_names: dict[str, str] = field(default_factory=dict)  # code -> full name (plain)
    categories: dict[str, int] = field(default_factory=dict)  # code -> id
    limits: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # (type, category code) -> (days, urgent hours)
    outcomes: dict[str, tuple[int, str]] = field(default_factory=dict)  # code -> (id, name as JSON text)
    return_reasons: dict[str, str] = field(default_factory=dict)  # code -> name (JSON text)
    extension_reasons: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # code -> (id, name plain, JSON text)
    level_one: tuple[int, str] = (1, "")  # (working days to respond, name as JSON text)
    agents: list[Person] = field(default_factory=list)
    agent_weights: list[int] = field(default_factory=list)
    dispatchers: list[Person] = field(default_factory=list)
    dispatcher_weights: list[int] = field(default_factory=list)
    supervisor: Person = Person(0, "")
    handlers: dict[int, list[Person]] = field(default_factory=dict)  # unit id -> handlers
    leaders: dict[int, list[Person]] = field(default_factory=dict)  # unit id -> leaders
    # Settings of the clocks.
    sign_minutes: int = 60
    sign_urgent_minutes: int = 30
    return_hours: int = 9
    assist_days: int = 3
    office_hours: tuple[int, int] = (9, 18)
    rating_days: int = 5
    redo_fraction: float = 0.5
    # Texts the actions and jobs write, translated.
    unrated_note: str = ""
    overdue_label: str = ""
    handled_reason: str = ""
    extension_notice: str = ""  # with %(n)d, %(reason)s, %(due)s
    language: str = "zh-hans"


def ensure_organisation() -> None:
    """The demo organisation and the platform's demo staff (idempotent, as `minyi demo --tickets 0`)."""
    loader.load_organisation()
    loader.load_users()


def _staff_login(unit: Unit, role: str) -> people.Login:
    """The background account of a unit that has none of its own, named as the demo history
    names them (so `minyi demo` and `minyi generate` share them)."""
    from minyi.org.demo.history import person_name

    suffix = "_leader" if role == Role.UNIT_LEADER else ""
    key = unit.code + ("-leader" if suffix else "")
    return people.Login(
        f"{people.UNIT_STAFF_PREFIX}{unit.code.lower()}{suffix}", role, unit.code,
        person_name(random.Random(key)),
    )


def ensure_unit_staff(unit_codes: set[str]) -> None:
    """Every unit that receives generated tickets has an active handler and a unit leader."""
    units = list(Unit.objects.filter(code__in=unit_codes))
    present = set(
        StaffProfile.objects.filter(unit__in=units, user__is_active=True)
        .values_list("unit_id", "user__groups__name")
    )
    for unit in units:
        for role in (Role.HANDLER, Role.UNIT_LEADER):
            if (unit.pk, role) not in present:
                loader.ensure_staff(_staff_login(unit, role), usable=False)


def _person(user, profiles: dict[int, str]) -> Person:
    return Person(user.pk, copy_escape(profiles.get(user.pk) or user.get_username()))


def load(unit_codes: set[str], template_keys: set[tuple[str, str]]) -> Reference:
    """Read the reference data; `unit_codes` are the units tickets go to, `template_keys`
    the (request type, category code) pairs whose time limits are needed."""
    ensure_unit_staff(unit_codes)
    ref = Reference()
    regions_by_code = {r.code: r.pk for r in Region.objects.all()}
    for district in regions.DISTRICTS:
        ref.districts.append(regions_by_code[district.code])
        ref.streets.append([regions_by_code[district.street_code(i)] for i in range(len(district.streets))])
    for unit in Unit.objects.all():
        ref.units[unit.code] = unit.pk
        ref.unit_names[unit.pk] = json_text(unit.name)
        ref.short_names[unit.code] = unit.short_name or unit.name
        ref.full_names[unit.code] = unit.name
    categories = {c.pk: c for c in Category.objects.all()}
    for category in categories.values():
        if category.parent_id is not None:
            category._state.fields_cache["parent"] = categories.get(category.parent_id)
        ref.categories[category.code] = category.pk
    by_code = {c.code: c for c in categories.values()}
    for request_type, code in template_keys:
        ref.limits[(request_type, code)] = services.policy_for(request_type, by_code[code])
    ref.outcomes = {o.code: (o.pk, json_text(o.name)) for o in ReplyOutcome.objects.all()}
    ref.return_reasons = {r.code: json_text(r.name) for r in ReturnReason.objects.all()}
    ref.extension_reasons = {r.code: (r.pk, r.name, json_text(r.name)) for r in ExtensionReason.objects.all()}
    missing = (
        [f"reply outcome {c}" for c in REPLY_OUTCOMES if c not in ref.outcomes]
        + [f"return reason {c}" for c in RETURN_REASONS if c not in ref.return_reasons]
        + [f"extension reason {c}" for c, _text in EXTENSION_REASONS if c not in ref.extension_reasons]
    )
    if missing:
        raise RuntimeError(f"reference data missing ({', '.join(missing)}): run `minyi migrate`")
    level = SupervisionLevel.objects.filter(level=1).first()
    ref.level_one = (level.response_working_days, json_text(level.name)) if level else (1, "1")

    user_model = get_user_model()
    names = list(AGENTS) + list(DISPATCHERS) + [SUPERVISOR]
    users = {u.username: u for u in user_model.objects.filter(username__in=names)}
    profiles = dict(StaffProfile.objects.values_list("user_id", "display_name"))
    for name, weight in AGENTS.items():
        if name in users:
            ref.agents.append(_person(users[name], profiles))
            ref.agent_weights.append(weight)
    for name, weight in DISPATCHERS.items():
        if name in users:
            ref.dispatchers.append(_person(users[name], profiles))
            ref.dispatcher_weights.append(weight)
    if not ref.agents or not ref.dispatchers or SUPERVISOR not in users:
        raise RuntimeError("the demo staff are missing: run `minyi demo --tickets 0` first")
    ref.supervisor = _person(users[SUPERVISOR], profiles)
    staff = (
        user_model.objects.filter(is_active=True, staff_profile__unit__code__in=unit_codes)
        .filter(Q(groups__name=Role.HANDLER) | Q(groups__name=Role.UNIT_LEADER))
        .values_list("pk", "username", "staff_profile__unit_id", "groups__name")
        .order_by("username")
    )
    seen: set[tuple[int, str]] = set()
    for pk, username, unit_id, role in staff:
        if (pk, role) in seen:
            continue
        seen.add((pk, role))
        person = Person(pk, copy_escape(profiles.get(pk) or username))
        (ref.leaders if role == Role.UNIT_LEADER else ref.handlers).setdefault(unit_id, []).append(person)

    ref.sign_minutes = settings.MINYI_SIGN_OFFICE_MINUTES
    ref.sign_urgent_minutes = settings.MINYI_SIGN_URGENT_MINUTES
    ref.return_hours = settings.MINYI_RETURN_WINDOW_OFFICE_HOURS
    ref.assist_days = settings.MINYI_ASSIST_INPUT_WORKING_DAYS
    start, end = settings.MINYI_OFFICE_HOURS
    ref.office_hours = (int(start), int(end))
    ref.rating_days = settings.MINYI_RATING_WINDOW_WORKING_DAYS
    ref.redo_fraction = settings.MINYI_REDO_DEADLINE_FRACTION
    ref.language = settings.LANGUAGE_CODE
    with translation.override(settings.LANGUAGE_CODE):
        ref.unrated_note = gettext("The rating window ended without a rating.")
        ref.overdue_label = str(SupervisionOrder.Cause.OVERDUE.label)
        ref.handled_reason = close_reason(SupervisionOrder.Cause.OVERDUE, Status.REPLIED, milestone_done=False)
        ref.extension_notice = gettext(
            "The handling time is extended by %(n)d working days (%(reason)s). New deadline: %(due)s."
        )
    return ref
