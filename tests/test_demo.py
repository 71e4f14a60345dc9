"""`minyi demo`: the organisation, the demo logins and a ticket history driven by the actions."""

from __future__ import annotations

import datetime as dt
import random
import string
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from minyi.org.actors import requester_actor
from minyi.org.demo import categories, history, templates
from minyi.org.models import Category, Region, Role, StaffProfile, Unit
from minyi.tickets import access, actions
from minyi.tickets.intake import credit_code_valid
from minyi.tickets.models import Notification, Reply, Ticket, TicketEvent, TicketRating

NOW = dt.datetime(2026, 11, 26, 15, 30, tzinfo=dt.UTC)


@pytest.fixture
def demo(db, django_capture_on_commit_callbacks):
    """The demo loaded with 40 tickets; notifications delivered as after a real commit."""
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", tickets=40, seed=7, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [Region, Unit, Category, User, Group, StaffProfile, Ticket, TicketEvent, Reply, TicketRating]
    return {model.__name__: model.objects.count() for model in models}


# --- the organisation ----------------------------------------------------------------------


def test_organisation_is_shenzhen_with_a_category_tree(demo):
    districts = Region.objects.filter(kind=Region.Kind.DISTRICT)
    assert districts.count() == 10
    assert Region.objects.filter(kind=Region.Kind.STREET).count() == 74
    futian = Region.objects.get(code="440304")
    assert futian.name == "福田区"
    assert set(futian.children.values_list("name", flat=True)) == {
        "园岭街道", "南园街道", "福田街道", "沙头街道", "香蜜湖街道", "梅林街道", "莲花街道",
        "华富街道", "福保街道", "华强北街道",
    }
    assert set(Region.objects.get(code="440305").children.values_list("name", flat=True)) == {
        "南头街道", "南山街道", "沙河街道", "蛇口街道", "招商街道", "粤海街道", "桃源街道", "西丽街道",
    }
    # Every district and street is governed by a unit of the right kind, in the right hierarchy.
    for district in districts:
        government = Unit.objects.get(kind=Unit.Kind.DISTRICT, region=district)
        for street in district.children.all():
            office = Unit.objects.get(kind=Unit.Kind.STREET, region=street)
            assert office.parent == government
            assert office.name.endswith(f"{street.name}办事处")

    assert Unit.objects.filter(kind=Unit.Kind.PLATFORM).count() == 1
    assert Unit.objects.filter(kind=Unit.Kind.CITY_BUREAU).count() >= 25
    names = set(Unit.objects.values_list("name", flat=True))
    assert {"深圳市住房和建设局", "深圳市市场监督管理局", "深圳市人力资源和社会保障局",
            "深圳市生态环境局", "深圳供电局有限公司"} <= names

    # The category tree: two or three levels, every leaf with its usual request type.
    roots = Category.objects.filter(parent=None)
    assert 12 <= roots.count() <= 18
    assert 60 <= Category.objects.count() <= 120
    assert set(Category.objects.values_list("level", flat=True)) == {1, 2, 3}
    leaves = Category.objects.annotate(n=Count("children")).filter(n=0)
    assert not leaves.filter(level=1).exists()
    assert not leaves.filter(default_type="").exists()
    # A location-bound leaf has no usual unit: it goes to the street office of the place.
    assert Category.objects.get(name="占道经营").default_unit is None
    elevator = Category.objects.get(name="电梯故障")
    assert elevator.path == "城乡建设 / 物业管理 / 电梯故障"
    assert elevator.default_unit.name == "深圳市住房和建设局"


# --- the logins ----------------------------------------------------------------------------


def test_demo_logins_have_their_roles_and_units(demo):
    expected = {
        "agent": Role.INTAKE_AGENT, "dispatcher": Role.DISPATCHER, "handler": Role.HANDLER,
        "leader": Role.UNIT_LEADER, "supervisor": Role.SUPERVISOR, "cityleader": Role.CITY_LEADER,
        "admin": Role.ADMIN,
    }
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.check_password("minyi-demo")
        assert user.staff_profile.display_name
    handler = User.objects.get(username="handler").staff_profile
    leader = User.objects.get(username="leader").staff_profile
    assert handler.unit == leader.unit
    assert handler.unit.name == "深圳市住房和建设局"
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert User.objects.get(username="agent").staff_profile.unit.kind == Unit.Kind.PLATFORM
    # Background staff of the history cannot log in.
    assert not User.objects.get(username="demo_agent_2").has_usable_password()
    assert "minyi-demo" in demo and "handler" in demo


def test_second_run_changes_nothing_and_keeps_passwords(demo):
    agent = User.objects.get(username="agent")
    agent.set_password("changed-by-the-user")
    agent.save()
    before = counts()

    out = StringIO()
    call_command("demo", tickets=40, seed=7, stdout=out)

    assert counts() == before
    assert "不再生成" in out.getvalue()
    agent.refresh_from_db()
    assert agent.check_password("changed-by-the-user")

    call_command("demo", tickets=0, reset_passwords=True, stdout=StringIO())
    agent.refresh_from_db()
    assert agent.check_password("minyi-demo")
    assert counts() == before


def test_force_adds_tickets(demo):
    before = Ticket.objects.count()
    call_command("demo", tickets=5, force=True, stdout=StringIO())
    assert Ticket.objects.count() == before + 5


# --- the history ---------------------------------------------------------------------------


def test_history_reaches_every_status_through_complete_timelines(demo):
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert statuses >= {"submitted", "dispatched", "returned", "in_progress", "pending_approval", "replied",
                        "under_review", "closed"}
    closing_kinds = set(
        TicketEvent.objects.filter(to_status="closed").values_list("kind", flat=True)
    )
    assert closing_kinds <= {"rate", "direct_answer", "close", "review"}
    assert {"rate", "direct_answer", "close"} <= closing_kinds
    assert TicketEvent.objects.filter(kind="return").exists()
    assert Ticket.objects.count() == 40

    # Every timeline is a complete chain of transitions, in the past.
    now = timezone.now()
    for ticket in Ticket.objects.prefetch_related("events"):
        events = list(ticket.events.all())
        assert events[0].kind == "submit"
        assert events[0].from_status == ""
        assert events[0].created_at == ticket.created_at
        for previous, event in zip(events, events[1:], strict=False):
            assert event.from_status == previous.to_status, ticket.number
            assert event.created_at >= previous.created_at, ticket.number
        assert events[-1].to_status == ticket.status
        assert events[-1].created_at <= now
        assert ticket.number.startswith(timezone.localdate(ticket.created_at).strftime("%Y%m%d"))
        if ticket.status in ("replied", "under_review") or any(e.kind == "reply" for e in events):
            assert ticket.replies.exists()


def test_printed_access_codes_let_the_requester_track_and_rate(demo):
    lines = demo.split("诉求人查询/评价示例")[1].strip().splitlines()
    number, code = lines[1].split()[:2]
    ticket = access.access_track(number, code)
    assert ticket.status == "replied"
    actions.rate(requester_actor(), None, rating="satisfied", code=code, number=number)
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_history_is_plausible(demo):
    now = timezone.now()
    created = list(Ticket.objects.values_list("created_at", flat=True))
    assert min(created) < now - dt.timedelta(days=20)
    assert max(created) > now - dt.timedelta(days=3)
    old = Ticket.objects.filter(created_at__lt=now - dt.timedelta(days=20))
    assert old.filter(status="closed").count() >= 0.8 * old.count()

    tickets = Ticket.objects.all()
    for ticket in tickets:
        if ticket.anonymous:
            assert ticket.requester_name == "" and ticket.enterprise_credit_code == ""
        else:
            assert ticket.requester_name
        if ticket.requester_kind == "enterprise":
            assert ticket.enterprise_name.endswith("有限公司")
            assert credit_code_valid(ticket.enterprise_credit_code), ticket.enterprise_credit_code
        if ticket.requester_phone:
            assert len(ticket.requester_phone) == 11 and ticket.requester_phone.startswith("1")
        assert ticket.street is None or ticket.street.parent_id == ticket.district_id
    assert tickets.filter(anonymous=True).exists()
    assert tickets.filter(channel="hotline").exists()

    # Notifications were delivered without a worker, at the time of their event.
    notes = Notification.objects.select_related("event")
    assert notes.exists()
    for note in notes:
        assert note.created_at == note.event.created_at
    handler = User.objects.get(username="handler")
    assert Notification.objects.filter(user=handler).exists() or not Ticket.objects.filter(
        lead_unit=handler.staff_profile.unit
    ).exists()


# --- the data and the planner, without a database --------------------------------------------


def test_every_template_fills_with_a_generated_context():
    leaves = {node.code: node for node, _ in categories.walk() if not node.children}
    rng = random.Random(1)
    from minyi.org.demo import regions

    for template in templates.TEMPLATES:
        assert template.category in leaves, template.category
        assert template.titles and template.texts and template.replies
        assert (template.type == "consultation") == bool(template.answer), template.titles[0]
        context = history.context_for(rng, regions.DISTRICTS[0], "莲花街道", NOW)
        for pattern in (*template.titles, *template.texts, template.answer):
            filled = pattern.format(**context)
            assert "{" not in filled
        for pattern in template.replies:
            pattern.format(**context, unit="市住房建设局")
        assert all(len(t.format(**context)) <= 100 for t in template.titles)
    types = {t.type for t in templates.TEMPLATES}
    assert types == {"consultation", "help", "suggestion", "complaint", "report"}
    assert len(templates.TEMPLATES) >= 60


def test_every_leaf_default_unit_exists():
    from minyi.org.demo import units

    codes = {code for code, _, _ in units.CITY_BUREAUS + units.ENTERPRISES}
    for node, _ in categories.walk():
        if not node.children:
            assert node.type
            assert node.unit is None or node.unit in codes, node.code


def test_generated_credit_codes_are_valid():
    rng = random.Random(3)
    for _ in range(500):
        assert credit_code_valid(history.credit_code(rng))


@pytest.mark.parametrize("count", [15, 40, 300])
def test_planner_covers_every_final_state_and_stays_in_the_past(count):
    plans = history.plan_history(count, seed=11, now=NOW)
    assert len(plans) == count
    assert {p.outcome for p in plans} == set(history.OUTCOMES)
    for plan in plans:
        times = [plan.spec.created_at, *(s.at for s in plan.steps)]
        assert times == sorted(times)
        assert times[-1] <= NOW
    assert [p.spec.created_at for p in plans] == sorted(p.spec.created_at for p in plans)


def test_planner_is_deterministic():
    def summary(seed):
        return [(p.spec.data["title"], p.outcome, [s.name for s in p.steps])
                for p in history.plan_history(50, seed=seed, now=NOW)]

    assert summary(5) == summary(5)
    assert summary(5) != summary(6)


def test_planner_mix_is_realistic():
    plans = history.plan_history(1000, seed=2, now=NOW)
    types = {t: sum(p.spec.template.type == t for p in plans) / 1000 for t in history.TYPE_WEIGHTS}
    assert 0.30 <= types["consultation"] <= 0.40
    assert 0.25 <= types["complaint"] <= 0.35
    channels = {c: sum(p.spec.channel == c for p in plans) for c in history.CHANNEL_WEIGHTS}
    assert max(channels, key=channels.get) == "hotline"
    anonymous = sum(p.spec.data["anonymous"] for p in plans) / 1000
    assert 0.2 <= anonymous <= 0.4
    urgent = sum(p.spec.urgent for p in plans) / 1000
    assert 0.01 <= urgent <= 0.06
    by_district = {d.code: sum(p.spec.district.code == d.code for p in plans) for d in history.regions.DISTRICTS}
    assert by_district["440306"] > by_district["440308"]  # 宝安 is far bigger than 盐田
    assert all(set(p.spec.data["title"]) - set(string.ascii_letters) for p in plans)
