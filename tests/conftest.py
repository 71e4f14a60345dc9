"""Named fixtures: a small organisation, one user per role, and helpers to drive tickets."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from minyi.org.actors import actor_for_user
from minyi.org.models import Category, Region, Role, StaffProfile, Unit
from minyi.tickets import actions
from minyi.tickets.intake import clean_submission

PASSWORD = "pw-for-tests-1"
#: A unit's legal basis for a return (退单).
LEGAL_BASIS = "《深圳市物业管理条例》第十二条：该事项由区住房和建设部门负责。"


@pytest.fixture
def reference_data(db):
    """The rows the data migrations create (role groups, return reasons, time-limit policies,
    extension reasons, supervision levels). A transactional test flushes the database, so
    transactional tests ask for these again."""
    from minyi.org.models import Role
    from minyi.tickets.models import ReturnReason

    for role in Role.values:
        Group.objects.get_or_create(name=role)
    reasons = importlib.import_module("minyi.tickets.migrations.0002_return_reasons").REASONS
    for code, name in reasons:
        ReturnReason.objects.get_or_create(code=code, defaults={"name": name})
    # Time limits (sla/0002) and the supervision ladder (supervision/0002).
    from minyi.sla.models import ExtensionReason, TimeLimitPolicy
    from minyi.supervision.models import SupervisionLevel

    sla_defaults = importlib.import_module("minyi.sla.migrations.0002_defaults")
    for request_type, days in sla_defaults.POLICIES:
        TimeLimitPolicy.objects.get_or_create(
            request_type=request_type, category=None, defaults={"working_days": days, "urgent_hours": 24}
        )
    for code, name in sla_defaults.REASONS:
        ExtensionReason.objects.get_or_create(code=code, defaults={"name": name})
    # Reply outcomes (tickets/0008).
    from minyi.tickets.models import ReplyOutcome

    outcomes = importlib.import_module("minyi.tickets.migrations.0008_reply_outcomes").OUTCOMES
    for order, (code, name, resolved) in enumerate(outcomes, start=1):
        ReplyOutcome.objects.get_or_create(code=code, defaults={"name": name, "resolved": resolved, "order": order})
    levels = importlib.import_module("minyi.supervision.migrations.0002_levels").LEVELS
    for level, code, name, days in levels:
        SupervisionLevel.objects.get_or_create(
            level=level, defaults={"code": code, "name": name, "response_working_days": days}
        )


@pytest.fixture
def org(db):
    """Two districts with streets, a platform centre, two bureaus and a street office."""
    futian = Region.objects.create(code="440304", name="福田区", kind="district")
    nanshan = Region.objects.create(code="440305", name="南山区", kind="district")
    lianhua = Region.objects.create(code="440304001", name="莲花街道", kind="street", parent=futian)
    yuehai = Region.objects.create(code="440305001", name="粤海街道", kind="street", parent=nanshan)
    centre = Unit.objects.create(code="SZ12345", name="深圳市12345热线服务中心", kind="platform")
    housing = Unit.objects.create(code="SZZJJ", name="深圳市住房和建设局", kind="city_bureau")
    transport = Unit.objects.create(code="SZJTJ", name="深圳市交通运输局", kind="city_bureau")
    street_office = Unit.objects.create(
        code="FT-LH", name="福田区莲花街道办事处", kind="street", region=lianhua
    )
    urban = Category.objects.create(code="01", name="城乡建设")
    property_mgmt = Category.objects.create(
        code="0101", name="物业管理", parent=urban, default_type="complaint", default_unit=housing
    )
    traffic = Category.objects.create(code="02", name="交通运输")
    bus = Category.objects.create(
        code="0201", name="公交服务", parent=traffic, default_type="consultation", default_unit=transport
    )
    return {
        "futian": futian, "nanshan": nanshan, "lianhua": lianhua, "yuehai": yuehai,
        "centre": centre, "housing": housing, "transport": transport, "street_office": street_office,
        "urban": urban, "property": property_mgmt, "traffic": traffic, "bus": bus,
    }


def make_user(username: str, roles: list[str], unit: Unit | None = None) -> User:
    user = User.objects.create_user(username, password=PASSWORD)
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    StaffProfile.objects.create(user=user, unit=unit, display_name=username)
    return user


@pytest.fixture
def users(org):
    """One user per role; `handler` and `leader` work for the housing bureau."""
    return {
        "agent": make_user("agent", [Role.INTAKE_AGENT], org["centre"]),
        "dispatcher": make_user("dispatcher", [Role.DISPATCHER], org["centre"]),
        "handler": make_user("handler", [Role.HANDLER], org["housing"]),
        "leader": make_user("leader", [Role.UNIT_LEADER], org["housing"]),
        "other_handler": make_user("other_handler", [Role.HANDLER], org["transport"]),
        "supervisor": make_user("supervisor", [Role.SUPERVISOR], org["centre"]),
        "cityleader": make_user("cityleader", [Role.CITY_LEADER], None),
        "admin": make_user("admin", [Role.ADMIN], org["centre"]),
    }


@pytest.fixture
def actors(users):
    return {name: actor_for_user(user) for name, user in users.items()}


def submission_data(org, **overrides) -> dict:
    data = {
        "type": "complaint",
        "title": "小区电梯经常故障",
        "text": "莲花北村12栋电梯近一个月故障五次，物业一直没有彻底维修，老人出行困难。",
        "category_id": org["property"].pk,
        "district": org["futian"].code,
        "street": org["lianhua"].code,
        "address": "莲花北村12栋",
        "anonymous": False,
        "contact_allowed": True,
        "requester_name": "张三",
        "requester_phone": "13800138000",
    }
    data.update(overrides)
    return data


@pytest.fixture
def new_ticket(org, actors):
    """A factory: `new_ticket(status="dispatched", **fields)` walks a ticket there through the actions."""

    def make(status: str = "submitted", **overrides):
        submission = clean_submission(submission_data(org, **overrides), [], channel="hotline")
        ticket, code = actions.submit(actors["agent"], submission)
        steps = ["dispatched", "in_progress", "replied", "closed"]
        if status == "returned":
            actions.dispatch(actors["dispatcher"], ticket.pk, org["housing"].pk)
            actions.return_ticket(
                actors["handler"], ticket.pk, reason_code="not_our_remit", note="不属于本单位职责",
                legal_basis=LEGAL_BASIS,
            )
        elif status != "submitted":
            for step in steps[: steps.index(status) + 1]:
                if step == "dispatched":
                    actions.dispatch(actors["dispatcher"], ticket.pk, org["housing"].pk)
                elif step == "in_progress":
                    actions.sign(actors["handler"], ticket.pk)
                elif step == "replied":
                    actions.reply(actors["handler"], ticket.pk, "已安排维保单位更换电梯主板，并于本周五前完成检测。", outcome="resolved")
                elif step == "closed":
                    actions.rate(_requester(), None, rating="satisfied", code=code, number=ticket.number)
        ticket.refresh_from_db()
        ticket.access_code = code
        return ticket

    return make


def _requester():
    from minyi.org.actors import requester_actor

    return requester_actor()


@pytest.fixture
def api_client():
    return Client()


@pytest.fixture
def token_for(users, api_client):
    """`token_for("handler")` logs that user in through the API and returns auth headers."""

    def login(name: str) -> dict:
        response = api_client.post(
            "/api/v1/auth/token",
            {"username": users[name].username, "password": PASSWORD},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}

    return login


# --- shared by the domain and API suites (added; nothing above is renamed) --------------------


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters live in the cache; every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def ticket_state(ticket_id: int) -> dict:
    """What a refused action must leave unchanged: status, unit, timestamps, deadlines and child rows."""
    from minyi.sla.models import Milestone
    from minyi.tickets.models import Ticket

    ticket = Ticket.objects.get(pk=ticket_id)
    return {
        "status": ticket.status,
        "lead_unit_id": ticket.lead_unit_id,
        "assisting": sorted(ticket.assisting_units.values_list("id", flat=True)),
        "dispatched_at": ticket.dispatched_at,
        "signed_at": ticket.signed_at,
        "replied_at": ticket.replied_at,
        "closed_at": ticket.closed_at,
        "events": ticket.events.count(),
        "replies": ticket.replies.count(),
        "ratings": ticket.ratings.count(),
        # Time limits (issue 3): both clocks, extensions, plans, milestones, supervision.
        "time_limit_days": ticket.time_limit_days,
        "extended_days": ticket.extended_days,
        "due_at": ticket.due_at,
        "due_provisional": ticket.due_provisional,
        "unit_due_at": ticket.unit_due_at,
        "unit_due_provisional": ticket.unit_due_provisional,
        "extensions": list(ticket.extensions.order_by("id").values_list("id", "status", "working_days", "decided_at")),
        "plans": list(ticket.plans.order_by("id").values_list("id", "status", "decided_at")),
        "milestones": list(
            Milestone.objects.filter(plan__ticket=ticket).order_by("id").values_list("id", "done_at", "evidence")
        ),
        "orders": list(ticket.supervision_orders.order_by("id").values_list("id", "status", "level")),
        "attachments": ticket.attachments.count(),
        # Dispatch (issue 4): sign-for and return windows, arbitration, co-handling.
        "sign_due_at": ticket.sign_due_at,
        "signed_late": ticket.signed_late,
        "return_due_at": ticket.return_due_at,
        "forced_dispatch": ticket.forced_dispatch,
        "assist_due_at": ticket.assist_due_at,
        "assist_inputs": ticket.assist_inputs.count(),
        # Duplicates (issue 4): the merge.
        "merged_into_id": ticket.merged_into_id,
        "merged_tickets": sorted(ticket.merged_tickets.values_list("id", flat=True)),
        # Closing the loop (issue 5): replies' states, redo, reviews, screenings.
        "reply_states": list(ticket.replies.order_by("id").values_list("id", "state", "approved_at")),
        "rating_due_at": ticket.rating_due_at,
        "redo_count": ticket.redo_count,
        "escalated": ticket.escalated,
        "reviews": ticket.reviews.count(),
        "screenings": list(ticket.screenings.order_by("id").values_list("id", "state")),
        "order_answers": list(ticket.supervision_orders.order_by("id").values_list("id", "answered_at")),
    }


@pytest.fixture
def unchanged():
    """`with unchanged(ticket): ...` asserts the block left the ticket exactly as it was."""
    from contextlib import contextmanager

    @contextmanager
    def check(ticket):
        before = ticket_state(ticket.pk)
        yield
        assert ticket_state(ticket.pk) == before

    return check


@pytest.fixture
def api(api_client, token_for):
    """`api("post", "/api/v1/tickets/1/sign", "handler", {...})`: a JSON call as that user
    (None: no token). Tokens are fetched once per user and test."""
    tokens: dict[str, dict] = {}

    def call(method: str, path: str, who: str | None = None, data=None, **extra):
        headers = {}
        if who is not None:
            if who not in tokens:
                tokens[who] = token_for(who)
            headers = tokens[who]
        send = getattr(api_client, method)
        if method in ("post", "put", "patch"):
            return send(path, {} if data is None else data, content_type="application/json", **headers, **extra)
        return send(path, data, **headers, **extra)

    return call


PERSONAL_DATA = ("13800138000", "张三")


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    """An error answer: the status, the body {"code", "message"[, "field"]}, no personal data."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) - {"field"} == {"code", "message"}, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    for secret in PERSONAL_DATA:
        assert secret not in body["message"], body
    if field is not None:
        assert body.get("field") == field, body
    return body


# --- time limits (issue 3) ----------------------------------------------------------------------


def shanghai(text: str):
    """An aware moment from ISO text; naive text is Asia/Shanghai time."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def travel(settings):
    """`travel("2026-11-02T10:00")` sets the clock (naive text: Asia/Shanghai) for the rest of
    the test; call it again to move on. API tokens issued on the way stay valid."""
    from contextlib import ExitStack

    from minyi.core import clock

    settings.MINYI_API_TOKEN_HOURS = 24 * 365
    with ExitStack() as stack:

        def to(text: str):
            moment = shanghai(text)
            stack.enter_context(clock.frozen_at(moment))
            return moment

        yield to


EXPLANATION = "需协调燃气、供电等多个部门联合施工，原定时限内无法完成。"
PLAN_EXPLANATION = "加装电梯需全体业主表决同意，已向诉求人说明，分阶段推进。"


def request_extension(actor, ticket, days: int = 5, reason: str = "hard_case"):
    from minyi.sla import actions as sla_actions

    return sla_actions.request_extension(
        actor, ticket.pk, reason_code=reason, working_days=days, explanation=EXPLANATION
    )


def extend(actors, ticket, days: int = 5, note: str = "同意延期，请加快办理。"):
    """The housing handler asks for `days` more working days and the supervisor approves."""
    from minyi.sla import actions as sla_actions

    request_extension(actors["handler"], ticket, days)
    return sla_actions.decide_extension(actors["supervisor"], ticket.pk, approve=True, note=note)


def file_plan(actor, ticket, *dates: str):
    """A plan with one milestone per date (YYYY-MM-DD)."""
    from minyi.sla import actions as sla_actions

    milestones = [{"title": f"第{i}阶段", "due_date": day} for i, day in enumerate(dates, 1)]
    return sla_actions.file_plan(actor, ticket.pk, explanation=PLAN_EXPLANATION, milestones=milestones)


def approved_plan(actors, ticket, *dates: str):
    from minyi.sla import actions as sla_actions

    file_plan(actors["handler"], ticket, *dates)
    return sla_actions.decide_plan(actors["supervisor"], ticket.pk, approve=True, note="同意")


@pytest.fixture
def one_rate_window(monkeypatch):
    """The public rate limit counts in fixed windows: keep a test's requests in one window,
    so that a test running across a window's end is not let through."""
    from types import SimpleNamespace

    from minyi.core import ratelimit

    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))


@pytest.fixture
def redone_ticket(new_ticket, actors):
    """A factory: a ticket replied to, rated dissatisfied, sent back by review and replied to
    again (replies, ratings, a review and screenings)."""

    def make():
        from minyi.feedback.actions import review
        from minyi.tickets import actions

        ticket = new_ticket("replied")
        actions.rate(actors["agent"], ticket.pk, rating="dissatisfied")
        review(actors["supervisor"], ticket.pk, decision="redo", explanation="诉求合理")
        actions.reply(actors["leader"], ticket.pk, "经单位领导复查，电梯已于11月5日完成全面检修并通过验收。", outcome="resolved")
        return ticket

    return make
