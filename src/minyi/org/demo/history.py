"""A realistic ticket history, written through the real actions with the clock moved back.

Two halves:

- **Planning** (pure, no database): `plan_history` draws each ticket (template, place,
  requester, channel, time of submission) and the steps it goes through (dispatch, return,
  sign, reply, rating, closure), each at a plausible moment: units act in office hours on
  working days, the platform from 8:00 to 22:00, urgent tickets at once. Steps later than
  "now" are not taken, so old tickets are closed and recent ones open. Afterwards a few
  tickets are steered so that every reachable status occurs even in a small history.
- **Execution** (`load_tickets`): every step is one call of `minyi.tickets.actions` inside
  `clock.frozen_at(step time)`, so tickets, replies, ratings and timeline events carry their
  historical timestamps and the timeline is complete.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F

from minyi.core import clock
from minyi.feedback import actions as feedback_actions
from minyi.org.actors import Actor, actor_for_user, requester_actor, system_actor
from minyi.org.demo import categories, people, regions, templates, units
from minyi.org.demo.loader import ensure_staff
from minyi.org.models import Category, Role, Unit
from minyi.sla import actions as sla_actions
from minyi.sla.calendar import is_working_day, package_calendar
from minyi.sla.jobs import scan
from minyi.sla.models import Milestone
from minyi.sla.policies import count_deadline
from minyi.tickets import actions
from minyi.tickets.intake import CREDIT_CODE_ALPHABET, CREDIT_CODE_WEIGHTS, clean_submission
from minyi.tickets.models import Notification

SHANGHAI = ZoneInfo("Asia/Shanghai")
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
#: What a demo unit cites when it returns a ticket (退单须注明法定依据).
DEMO_LEGAL_BASIS = "《深圳市机构编制管理规定》及本单位“三定”方案所列职责"

TYPE_WEIGHTS = {"consultation": 35, "complaint": 30, "help": 20, "suggestion": 8, "report": 7}
CHANNEL_WEIGHTS = {"hotline": 55, "app": 18, "miniprogram": 15, "web": 12}
#: Share of tickets submitted per hour of the day (Asia/Shanghai), 0:00 to 23:00.
HOUR_WEIGHTS = (0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.5, 4.0, 4.5, 4.0,
                2.8, 3.0, 4.0, 4.2, 4.0, 3.5, 2.8, 2.5, 2.2, 1.8, 1.2, 0.6)
#: Working days it usually takes a unit to reply after signing, by request type.
REPLY_DAYS = {"consultation": (0.1, 1.2), "help": (0.5, 6), "suggestion": (1, 8),
              "complaint": (1.5, 11), "report": (2, 11)}
DIRECT_ANSWER_SHARE = 0.55  # of consultations: answered by the platform from the knowledge base
RETURN_SHARE = 0.10  # of dispatched tickets: sent to a wrong unit first and returned
ANONYMOUS_SHARE = 0.32
RATING_SHARES = (("satisfied", 0.72), ("basically_satisfied", 0.18), ("dissatisfied", 0.10))
RATED_SHARE = 0.65  # the rest close when the rating window runs out
REDO_SHARE = 0.5  # of dissatisfied ratings: judged reasonable and redone (不满意重办)
#: What replies say came of the request (tickets/0008), and how often.
OUTCOME_SHARES = (("resolved", 0.68), ("partly_resolved", 0.1), ("explained", 0.14), ("planned", 0.04),
                  ("referred", 0.04))
RATING_WINDOW_WORKING_DAYS = 5  # the default of MINYI_RATING_WINDOW_WORKING_DAYS
STALL_SHARE = 0.04  # of dispatched tickets: signed, then left to run over the deadline
EXTENSION_SHARE = 0.08  # of signed help/complaint/report tickets: an extension is asked for
EXTENSION_REFUSED_SHARE = 0.15
STAGED_SHARE = 0.03  # of signed complaint/help tickets: a staged-closure plan
EXTENSION_REASONS = (
    ("hard_case", "涉及多个部门，需联合现场核查后方能答复。"),
    ("new_facts", "诉求人补充了新的情况和材料，需重新核实。"),
    ("hard_case", "需委托第三方检测机构出具检测报告，周期较长。"),
    ("natural_disaster", "受台风暴雨影响，现场核查无法按期开展。"),
)
PLAN_MILESTONES = (
    ("组织相关方现场调研并征求意见", "形成整改方案并报批", "完成整改并组织验收"),
    ("联系产权单位和业主召开协调会", "完成施工单位招标与进场", "完工并回访诉求人"),
    ("委托专业机构检测评估", "落实维修资金", "完成维修并复查"),
)

#: The final states the history must contain (closed ones by how they closed).
OUTCOMES = (
    "submitted", "dispatched", "returned", "in_progress", "pending_approval", "replied", "under_review",
    "closed_direct", "closed_by_rating", "closed_by_close",
)
#: Where a steered ticket is placed in time (hours before now) so its open state is plausible.
STEERED_AGE_HOURS = {
    "submitted": (0.2, 1.5), "dispatched": (1.5, 6), "returned": (4, 20), "in_progress": (20, 70),
    "replied": (30, 60), "under_review": (50, 110), "pending_approval": (90, 200),
}

BUS_LINES = ("M390", "B796", "325", "E11", "M200", "B682", "62", "M459", "101", "N6", "M375", "B828")
METRO_LINES = ("1号线（罗宝线）", "3号线（龙岗线）", "4号线（龙华线）", "5号线（环中线）", "11号线（机场线）", "14号线")
LATE_TIMES = ("晚上11点", "晚上11点半", "凌晨12点", "凌晨1点", "凌晨2点")
WORDS = ("鑫达", "华泰", "恒通", "佳美", "宏盛", "联创", "永兴", "金辉", "海纳", "鹏程", "泰和", "信诚",
         "盛世", "新锐", "万嘉", "丰源", "瑞祥", "安骏", "德润", "卓越", "启航", "优品", "天成", "嘉禾")
INDUSTRIES = ("电子科技", "建筑劳务", "物流", "装饰工程", "餐饮管理", "贸易", "精密五金", "智能科技",
              "文化传播", "家政服务", "服装", "包装材料")
SHOP_KINDS = ("健身", "美容美发", "游泳馆", "烘焙", "洗车行", "瑜伽馆", "美甲店")
RESTAURANTS = ("烧烤店", "火锅店", "湘菜馆", "快餐店", "潮汕牛肉火锅店", "麻辣烫店")
VENUES = ("酒吧", "KTV", "清吧", "烧烤店", "奶茶店")
TRAININGS = ("英语培训中心", "少儿编程培训中心", "美术培训班", "舞蹈培训中心", "钢琴培训中心")
AMOUNTS = (2680, 3800, 4980, 6800, 9800, 12000, 15800, 26000, 38000)

RATING_COMMENTS = {
    "satisfied": ("问题已解决，谢谢！", "处理很及时，点赞。", "", "工作人员态度很好。", "", "答复很清楚，谢谢。"),
    "basically_satisfied": ("基本解决了，希望后续继续跟进。", "处理有点慢。", "", "答复还算清楚。"),
    "dissatisfied": ("问题没有解决，只是电话敷衍。", "答复内容和实际情况不符。",
                     "现场还是老样子，没有任何改变。", "不认可处理结果，要求重新处理。"),
}
REDO_NOTES = (
    "经核查，诉求人反映问题仍未解决，不满意理由成立，退回原承办单位重办，请单位领导牵头办理。",
    "回访核实现场问题依旧存在，诉求合理，请承办单位提级办理并在时限内重新答复。",
)
REDO_REPLIES = (
    "经单位领导牵头复查，已组织相关科室和责任单位现场核实，问题已于本周整改到位，并建立每周巡查机制防止反弹。"
    "如仍有问题，可直接联系本单位督办专线。",
    "收到重办件后，单位领导带队到现场调查，已责令责任方限期整改，整改结果已现场验收。后续将持续跟踪，确保问题不再发生。",
)
REVIEW_CLOSE_NOTES = (
    "经核查，承办单位已依法依规答复，诉求人不满意理由不成立，予以办结。",
    "经回访核实，承办单位已按政策规定处理，诉求人诉求超出政策范围，按规定办结。",
)
UNRATED_CLOSE = {
    "system": "答复后评价期内诉求人未评价，系统按期办结。",
    "dispatcher": "回访电话三次未接通，按规定办结。",
}


# --- planning ---------------------------------------------------------------------------------


@dataclass
class Step:
    name: str  # direct_answer, dispatch, return, sign, reply, rate, close
    at: dt.datetime
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Spec:
    """One ticket as drawn: what is asked, by whom, where, when and through which channel."""

    template: templates.Template
    created_at: dt.datetime
    channel: str
    urgent: bool
    district: regions.District
    street_index: int | None
    context: dict[str, Any]
    data: dict[str, Any]  # input for clean_submission (the category is added at execution)
    unit_code: str  # the right handling unit
    wrong: tuple[str, str, str] | None  # first (wrong) dispatch: unit code, reason code, note
    assisting: tuple[str, ...]
    rng_seed: int


@dataclass
class Plan:
    spec: Spec
    steps: list[Step]
    steered: bool = False

    @property
    def outcome(self) -> str:
        if not self.steps:
            return "submitted"
        last = self.steps[-1]
        if last.name == "rate":
            return "under_review" if last.args["rating"] == "dissatisfied" else "closed_by_rating"
        if last.name == "review":
            return "in_progress" if last.args["decision"] == "redo" else "closed_by_close"
        if last.name == "reply" and last.args.get("redo"):
            return "pending_approval"
        return {
            "direct_answer": "closed_direct", "dispatch": "dispatched", "return": "returned",
            "sign": "in_progress", "reply": "replied", "close": "closed_by_close", "approve_reply": "replied",
        }.get(last.name, "in_progress")


def _weighted(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def credit_code(rng: random.Random, admin_code: str = "440300") -> str:
    """A unified social credit code (GB 32100-2015) of a Shenzhen enterprise, both check digits right."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "".join(rng.choice("0123456789") for _ in range(2)) + "".join(
        rng.choice(alphabet[:10] + "MNPQRTUWXY") for _ in range(6)
    )
    # The organisation code's own check digit (GB 11714): weights 3 7 9 10 5 8 4 2, mod 11.
    total = sum(int(ch, 36) * w for ch, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    org = body + {10: "X", 11: "0"}.get(check, str(check))
    code17 = "91" + admin_code + org
    total = sum(
        CREDIT_CODE_ALPHABET.index(ch) * w for ch, w in zip(code17, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return code17 + CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def person_name(rng: random.Random, *, formal: bool = True) -> str:
    surname = rng.choice(people.SURNAMES)
    if not formal:
        return surname + rng.choice(("先生", "女士"))
    return surname + "".join(rng.choice(people.GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))


def phone_number(rng: random.Random) -> str:
    prefix = rng.choice(("130", "131", "132", "133", "135", "136", "137", "138", "139", "150",
                         "152", "155", "158", "159", "166", "176", "180", "181", "186", "188", "189", "199"))
    return prefix + f"{rng.randrange(10**8):08d}"


def _company(rng: random.Random) -> str:
    return f"深圳市{rng.choice(WORDS)}{rng.choice(INDUSTRIES)}有限公司"


def context_for(rng: random.Random, district: regions.District, street: str | None,
                created_at: dt.datetime) -> dict[str, Any]:
    """The places and details a template's placeholders are filled with."""
    street = street or rng.choice(district.streets)
    street_short = street.removesuffix("街道")
    road, road2 = rng.sample(district.roads, 2)
    local = created_at.astimezone(SHANGHAI)
    earlier = local - dt.timedelta(days=rng.randint(2, 9))
    fare = rng.randint(25, 48)
    plate = (f"粤BD{rng.randint(10000, 99999)}" if rng.random() < 0.4
             else f"粤B{rng.choice('ACDFGHJKLMNPQRSTUVWXY')}{rng.randint(1000, 9999)}")
    return {
        "district": district.name,
        "street": street,
        "estate": rng.choice(district.estates),
        "building": f"{rng.randint(1, 32)}栋",
        "road": road,
        "road2": road2,
        "n": rng.randint(2, 6),
        "n2": rng.randint(10, 25),
        "months": rng.randint(2, 5),
        "time": rng.choice(LATE_TIMES),
        "date": rng.choice(("昨天", "前天", "上周末", "上周三", f"{earlier.month}月{earlier.day}日")),
        "shop": f"{rng.choice(WORDS)}{rng.choice(SHOP_KINDS)}",
        "restaurant": f"{rng.choice(WORDS)}{rng.choice(RESTAURANTS)}",
        "venue": rng.choice(VENUES),
        "training": f"{rng.choice(WORDS)}{rng.choice(TRAININGS)}",
        "company": _company(rng),
        "job": rng.choice(people.JOBS),
        "amount": rng.choice(AMOUNTS),
        "deposit": rng.choice((2400, 3000, 3600, 4500, 5200)),
        "price": rng.choice((199, 299, 459, 699, 899)),
        "fare": fare,
        "fare2": fare * 2 + rng.randint(5, 20),
        "bus": rng.choice(BUS_LINES),
        "metro": rng.choice(METRO_LINES),
        "school": rng.choice((f"{street_short}小学", f"{street_short}中学", f"{district.short}实验学校")),
        "hospital": rng.choice(district.hospitals),
        "park": rng.choice(district.parks),
        "plate": plate,
        "year": local.year,
    }


def _sample_created_at(rng: random.Random, now: dt.datetime, days: int) -> dt.datetime:
    today = now.astimezone(SHANGHAI).date()
    day_offsets = list(range(days))
    weights = [1.0 if is_working_day(today - dt.timedelta(days=d)) else 0.55 for d in day_offsets]
    for _ in range(50):
        day = today - dt.timedelta(days=rng.choices(day_offsets, weights=weights)[0])
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        moment = dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)), SHANGHAI)
        if moment < now - 10 * MINUTE:
            return moment
    return now - rng.randint(15, 120) * MINUTE


def _route(node: categories.Node, district: regions.District, street_code: str | None) -> str:
    """The unit the dispatcher sends a ticket of `node` at this place to."""
    if node.district_bureau and district.code not in units.DISTRICTS_WITHOUT_BUREAUS:
        return units.district_bureau_code(district.code, node.district_bureau)
    if node.unit:
        return node.unit
    if street_code:
        return units.street_unit_code(street_code)
    return units.district_unit_code(district.code)


def _wrong_route(rng: random.Random, right: str, district: regions.District,
                 street_index: int | None, context: dict[str, Any],
                 unit_names: dict[str, str]) -> tuple[str, str, str]:
    """A plausible wrong first dispatch and the unit's reason for returning it."""
    right_name = unit_names.get(right, right)
    if units.is_street_unit(right) and len(district.streets) > 1 and rng.random() < 0.6:
        others = [i for i in range(len(district.streets)) if i != street_index]
        wrong = units.street_unit_code(district.street_code(rng.choice(others)))
        note = (f"经现场核实，{context['estate']}不在我街道辖区，属{right_name}管辖范围，"
                "根据属地管理原则请改派。")
        return wrong, "wrong_locality", note
    if units.is_street_unit(right):
        wrong = rng.choice(("SZCGJ", "SZZJJ", "SZSTHJJ"))
        note = (f"根据职责分工，该诉求属于属地街道日常管理事项，应由{right_name}负责处置，"
                "不属于我单位职责，请改派。")
        return wrong, "not_our_remit", note
    if units.is_district_unit(right):
        wrong = rng.choice(("SZJYJ", "SZZJJ", "SZCGJ"))
        note = f"根据市区两级事权划分，该事项由{right_name}负责办理，不属于我单位职责，请改派。"
        return wrong, "not_our_remit", note
    roll = rng.random()
    if roll < 0.4 and street_index is not None:
        wrong = units.street_unit_code(district.street_code(street_index))
        note = f"该事项属于{right_name}的职责范围，街道无相应的管理和执法权限，请改派。"
        return wrong, "not_our_remit", note
    if roll < 0.7:
        if context.get("address"):
            note = "诉求地址和具体情况描述不清，无法到现场核实处理，请补充信息后重新派发。"
        else:
            note = "诉求内容缺少办理所需的必要信息，无法准确答复，请与诉求人核实补充后重新派发。"
        return right, "insufficient_info", note
    wrong = rng.choice([code for code, _, _ in units.CITY_BUREAUS if code != right])
    note = f"经研究，该诉求涉及事项主要由{right_name}负责，我单位职责不清，请平台协调改派。"
    return wrong, "unclear_ownership", note


def draw_spec(rng: random.Random, now: dt.datetime, days: int, unit_names: dict[str, str],
              leaves: dict[str, categories.Node]) -> Spec:
    request_type = _weighted(rng, TYPE_WEIGHTS)
    template = rng.choice([t for t in templates.TEMPLATES if t.type == request_type])
    node = leaves[template.category]
    created_at = _sample_created_at(rng, now, days)
    channel = _weighted(rng, CHANNEL_WEIGHTS)
    district = rng.choices(regions.DISTRICTS, weights=[d.population for d in regions.DISTRICTS])[0]
    texts = " ".join((*template.titles, *template.texts, *template.replies, template.answer))
    names_place = "{street}" in texts or "{estate}" in texts or "{road}" in texts
    street_index: int | None = rng.randrange(len(district.streets))
    if not names_place and rng.random() < 0.4:
        street_index = None
    street = district.streets[street_index] if street_index is not None else None
    context = context_for(rng, district, street, created_at)

    title = rng.choice(template.titles).format(**context)[:100]
    text = rng.choice(template.texts).format(**context)
    if channel == "hotline":
        text = "来电人反映：" + text
    if "{estate}" in texts:
        address = f"{context['estate']}{context['building']}"
    elif "{road}" in texts:
        address = f"{context['road']}{rng.randint(1, 399)}号附近"
    else:
        address = ""

    enterprise = rng.random() < template.enterprise
    anonymous = not enterprise and rng.random() < ANONYMOUS_SHARE
    contact_allowed = rng.random() < (0.3 if anonymous else 0.75)
    data: dict[str, Any] = {
        "type": template.type,
        "urgent": rng.random() < template.urgent,
        "title": title,
        "text": text,
        "district": district.code,
        "street": district.street_code(street_index) if street_index is not None else "",
        "address": address,
        "anonymous": anonymous,
        "contact_allowed": contact_allowed,
        "requester_kind": "enterprise" if enterprise else "citizen",
    }
    if not anonymous:
        data["requester_name"] = person_name(rng, formal=enterprise or rng.random() < 0.65)
    if contact_allowed or (not anonymous and (channel == "hotline" or rng.random() < 0.5)):
        data["requester_phone"] = phone_number(rng)
    if enterprise:
        data["enterprise_name"] = _company(rng)
        data["enterprise_credit_code"] = credit_code(rng)
    if channel in ("app", "miniprogram") and address:
        lat, lon = district.centre
        data["latitude"] = f"{lat + rng.uniform(-0.025, 0.025):.6f}"
        data["longitude"] = f"{lon + rng.uniform(-0.03, 0.03):.6f}"

    street_code = district.street_code(street_index) if street_index is not None else None
    right = _route(node, district, street_code)
    wrong = _wrong_route(rng, right, district, street_index, dict(context, address=address), unit_names)
    assisting: tuple[str, ...] = ()
    if (units.is_street_unit(right) and template.category[:2] in ("02", "10")
            and district.code not in units.DISTRICTS_WITHOUT_BUREAUS and rng.random() < 0.15):
        assisting = (units.district_bureau_code(district.code, "CGJ"),)
    return Spec(
        template=template, created_at=created_at, channel=channel, urgent=bool(data["urgent"]),
        district=district, street_index=street_index, context=context, data=data,
        unit_code=right, wrong=wrong, assisting=assisting, rng_seed=rng.randrange(2**32),
    )


def _after_open_hours(moment: dt.datetime, hours: float, spans: tuple[tuple[dt.time, dt.time], ...],
                      working_days_only: bool) -> dt.datetime:
    """The moment `hours` of open time after `moment`, counting only the open `spans` of each
    day (and only working days if `working_days_only`)."""
    remaining = dt.timedelta(hours=hours)
    local = moment.astimezone(SHANGHAI)
    for _ in range(400):
        if not working_days_only or is_working_day(local.date()):
            for start, end in spans:
                opens = dt.datetime.combine(local.date(), start, SHANGHAI)
                closes = dt.datetime.combine(local.date(), end, SHANGHAI)
                if local >= closes:
                    continue
                begin = max(local, opens)
                if remaining <= closes - begin:
                    return begin + remaining
                remaining -= closes - begin
                local = closes
        local = dt.datetime.combine(local.date() + DAY, dt.time(0), SHANGHAI)
    return local


OFFICE = ((dt.time(8, 30), dt.time(12, 0)), (dt.time(14, 0), dt.time(18, 0)))
PLATFORM_HOURS = ((dt.time(8, 0), dt.time(22, 0)),)
WAKING_HOURS = ((dt.time(7, 30), dt.time(22, 30)),)
OFFICE_HOURS_A_DAY = 7.5


@dataclass(frozen=True)
class Choices:
    direct: bool = False
    returned: bool = False
    stall: bool = False  # the unit signs but lets the ticket run over its deadline
    rating: str | None = None  # None: unrated, closed when the window runs out
    rater: str = "requester"  # or "visit": recorded by an agent on a return visit
    review_closes: bool = True
    redo: bool = False  # a dissatisfied rating judged reasonable: redone, approved, rated again
    extension: bool = False  # the unit asks for more time after signing
    extension_refused: bool = False
    staged: bool = False  # a hard case finished by a staged-closure plan (阶段性办结)


def draw_choices(rng: random.Random, spec: Spec) -> Choices:
    if spec.template.type == "consultation" and spec.template.answer and rng.random() < DIRECT_ANSWER_SHARE:
        return Choices(direct=True)
    stall = rng.random() < STALL_SHARE
    rating = None
    if rng.random() < RATED_SHARE:
        rating = rng.choices([r for r, _ in RATING_SHARES], weights=[w for _, w in RATING_SHARES])[0]
    redo = rating == "dissatisfied" and rng.random() < REDO_SHARE
    can_visit = bool(spec.data.get("requester_phone"))
    long_case = spec.template.type in ("help", "complaint", "report") and not spec.urgent
    staged = long_case and spec.template.type != "report" and rng.random() < STAGED_SHARE
    extension = long_case and not staged and not stall and rng.random() < EXTENSION_SHARE
    return Choices(
        extension=extension,
        extension_refused=extension and rng.random() < EXTENSION_REFUSED_SHARE,
        staged=staged,
        returned=rng.random() < RETURN_SHARE,
        stall=stall,
        rating=rating,
        review_closes=not redo,
        redo=redo,
        rater="visit" if can_visit and rng.random() < 0.5 else "requester",
    )


def build_steps(rng: random.Random, spec: Spec, choices: Choices) -> list[Step]:
    """Every step the ticket would take, with times, regardless of "now"."""
    urgent = spec.urgent
    t = spec.created_at
    steps: list[Step] = []

    def platform(after: dt.datetime, low: float, high: float) -> dt.datetime:
        """Platform staff work 8:00–22:00 every day; urgent tickets are handled at once."""
        if urgent:
            return after + rng.uniform(5, 20) * MINUTE
        return _after_open_hours(after, rng.uniform(low, high), PLATFORM_HOURS, False)

    def office(after: dt.datetime, low: float, high: float) -> dt.datetime:
        """Units work office hours on working days; urgent tickets are handled at once."""
        if urgent:
            return after + rng.uniform(10, 50) * MINUTE
        return _after_open_hours(after, rng.uniform(low, high), OFFICE, True)

    if choices.direct:
        hours = (0.03, 0.3) if spec.channel == "hotline" else (0.3, 5)
        steps.append(Step("direct_answer", platform(t, *hours)))
        return steps

    dispatch_note = "加急件，请立即处置并于24小时内答复。" if urgent else rng.choice(
        ("", "", "请按时限办理并答复诉求人。", "请核实情况后依法依规处理。")
    )
    if choices.returned and spec.wrong and not urgent:
        wrong_unit, reason, note = spec.wrong
        t = platform(t, 0.1, 2.5)
        steps.append(Step("dispatch", t, {"unit": wrong_unit, "note": dispatch_note}))
        t = office(t, 0.3, 7)
        steps.append(Step("return", t, {"unit": wrong_unit, "reason": reason, "note": note}))
        if reason == "insufficient_info" and spec.data["address"]:
            redo_note = f"已联系诉求人补充具体地址：{spec.district.name}{spec.data['address']}，请核实处理。"
        elif reason == "insufficient_info":
            redo_note = "已联系诉求人补充相关情况，详见诉求内容，请予答复。"
        else:
            redo_note = "经研判，退单理由成立，改派承办。"
        t = platform(t, 0.2, 5)
        steps.append(Step("dispatch", t, {"unit": spec.unit_code, "note": redo_note,
                                          "assisting": spec.assisting}))
    else:
        t = platform(t, 0.1, 2.5)
        steps.append(Step("dispatch", t, {"unit": spec.unit_code, "note": dispatch_note,
                                          "assisting": spec.assisting}))

    t = office(t, 0.1, 5)
    steps.append(Step("sign", t, {"unit": spec.unit_code}))
    if choices.stall:
        return steps

    if choices.extension:
        reason, explanation = rng.choice(EXTENSION_REASONS)
        t = office(t, 1 * OFFICE_HOURS_A_DAY, 5 * OFFICE_HOURS_A_DAY)
        steps.append(Step("request_extension", t, {"unit": spec.unit_code, "reason": reason,
                                                   "days": rng.choice((3, 5, 5, 7, 10)),
                                                   "explanation": explanation}))
        t = platform(t, 0.5, 6)
        steps.append(Step("decide_extension", t, {"approve": not choices.extension_refused}))
    if choices.staged:
        titles = rng.choice(PLAN_MILESTONES)
        t = office(t, 1 * OFFICE_HOURS_A_DAY, 4 * OFFICE_HOURS_A_DAY)
        first = t.astimezone(SHANGHAI).date() + dt.timedelta(days=rng.randint(7, 14))
        dates = [first + dt.timedelta(days=21 * i + rng.randint(0, 6)) for i in range(len(titles))]
        steps.append(Step("file_plan", t, {"unit": spec.unit_code, "milestones": list(zip(titles, dates, strict=True))}))
        t = platform(t, 1, 8)
        steps.append(Step("decide_plan", t, {"approve": True}))
        for seq, day in enumerate(dates, 1):
            # Most milestones are met a little early; the unit records each with evidence.
            moment = dt.datetime.combine(day - dt.timedelta(days=rng.randint(0, 3)), dt.time(10), tzinfo=SHANGHAI)
            t = max(t + HOUR, moment)
            steps.append(Step("record_milestone", t, {"unit": spec.unit_code, "seq": seq}))

    if urgent:
        t = t + rng.uniform(2, 18) * HOUR
    else:
        low, high = REPLY_DAYS[spec.template.type]
        t = office(t, low * OFFICE_HOURS_A_DAY, high * OFFICE_HOURS_A_DAY)
    steps.append(Step("reply", t, {"unit": spec.unit_code, "outcome": _weighted(rng, dict(OUTCOME_SHARES))}))

    if choices.rating is None:
        closer = "system" if rng.random() < 0.7 else "dispatcher"
        if closer == "dispatcher":  # the return visit fails within the rating window
            t = _after_open_hours(t + rng.uniform(2, 3) * DAY, rng.uniform(0.1, 3), PLATFORM_HOURS, False)
        else:  # the rating window job, a quarter of an hour after the window ends
            window_end = count_deadline(t, RATING_WINDOW_WORKING_DAYS, package_calendar()).at
            t = window_end + rng.uniform(1, 15) * MINUTE
        steps.append(Step("close", t, {"actor": closer, "note": UNRATED_CLOSE[closer]}))
        return steps

    spans = PLATFORM_HOURS if choices.rater == "visit" else WAKING_HOURS
    t = _after_open_hours(t, rng.uniform(0.3, 25), spans, False)
    steps.append(Step("rate", t, {"rating": choices.rating, "rater": choices.rater,
                                  "comment": rng.choice(RATING_COMMENTS[choices.rating])}))
    if choices.rating == "dissatisfied" and choices.redo:
        t = platform(t, 2, 15)
        steps.append(Step("review", t, {"decision": "redo", "explanation": rng.choice(REDO_NOTES)}))
        t = office(t, 0.5 * OFFICE_HOURS_A_DAY, 3 * OFFICE_HOURS_A_DAY)
        steps.append(Step("reply", t, {"unit": spec.unit_code, "outcome": "resolved", "redo": True}))
        t = office(t, 0.3, 6)
        steps.append(Step("approve_reply", t, {"unit": spec.unit_code}))
        t = _after_open_hours(t, rng.uniform(0.3, 25), PLATFORM_HOURS, False)
        steps.append(Step("rate", t, {"rating": rng.choice(("satisfied", "basically_satisfied")), "rater": "visit",
                                      "comment": "重办后问题解决了。"}))
    elif choices.rating == "dissatisfied" and choices.review_closes:
        t = office(t, 2, 15)
        steps.append(Step("review", t, {"decision": "close", "explanation": rng.choice(REVIEW_CLOSE_NOTES)}))
    return steps


def _until(steps: list[Step], now: dt.datetime) -> list[Step]:
    taken = []
    for step in steps:
        if step.at > now:
            break
        taken.append(step)
    return taken


STEER_CHOICES = {
    "submitted": (Choices(), 0),
    "dispatched": (Choices(), 1),
    "returned": (Choices(returned=True), 2),
    "in_progress": (Choices(), 2),
    "replied": (Choices(), 3),
    "under_review": (Choices(rating="dissatisfied", review_closes=False), 4),
    "pending_approval": (Choices(rating="dissatisfied", review_closes=False, redo=True), 6),
    "closed_direct": (Choices(direct=True), 1),
    "closed_by_rating": (Choices(rating="satisfied"), 4),
    "closed_by_close": (Choices(), 4),
}


def steer(plan: Plan, outcome: str, now: dt.datetime) -> Plan:
    """Rewrite `plan` so that the ticket ends in `outcome`, all its steps before `now`.

    A ticket steered to an open state is moved to a recent submission time at which its
    steps fall naturally before now; if none is found, its steps are squeezed into the time
    left.
    """
    rng = random.Random(plan.spec.rng_seed ^ 0x5EED)
    choices, keep = STEER_CHOICES[outcome]
    spec, steps = plan.spec, build_steps(rng, plan.spec, choices)[:keep]
    if outcome in STEERED_AGE_HOURS:
        low, high = STEERED_AGE_HOURS[outcome]
        for attempt in range(40):
            stretch = 1 + attempt * 0.1
            moved = replace(spec, created_at=now - dt.timedelta(hours=rng.uniform(low, high) * stretch))
            spec, steps = moved, build_steps(rng, moved, choices)[:keep]
            if not steps or steps[-1].at <= now - 5 * MINUTE:
                break
    if steps and steps[-1].at > now - 5 * MINUTE:
        span = (steps[-1].at - spec.created_at).total_seconds()
        room = (now - 5 * MINUTE - spec.created_at).total_seconds()
        factor = max(room, 0) / span if span > 0 else 0
        for step in steps:
            step.at = spec.created_at + dt.timedelta(seconds=(step.at - spec.created_at).total_seconds() * factor)
    return Plan(spec, steps, steered=True)


def plan_history(count: int, *, seed: int, now: dt.datetime, days: int = 60,
                 unit_names: dict[str, str] | None = None) -> list[Plan]:
    """Plans for `count` tickets, oldest first. Pure: no database."""
    rng = random.Random(seed)
    leaves = {node.code: node for node, _ in categories.walk() if not node.children}
    names = unit_names or {}
    plans = []
    for _ in range(count):
        spec = draw_spec(rng, now, days, names, leaves)
        choices = draw_choices(rng, spec)
        steps = _until(build_steps(rng, spec, choices), now)
        plans.append(Plan(spec, steps))

    # Steer a few tickets so that every final state occurs: open states on the newest tickets,
    # closed ones on the oldest, never taking the last ticket of another final state.
    outcomes = Counter(p.outcome for p in plans)
    for outcome in OUTCOMES:
        if outcomes[outcome]:
            continue
        by_age = sorted(range(len(plans)), key=lambda i: plans[i].spec.created_at,
                        reverse=outcome in STEERED_AGE_HOURS)
        for index in by_age:
            candidate = plans[index]
            if candidate.steered or outcomes[candidate.outcome] < 2:
                continue
            if outcome == "closed_direct" and candidate.spec.template.type != "consultation":
                continue
            steered = steer(candidate, outcome, now)
            if steered.outcome != outcome:  # e.g. an urgent ticket is never dispatched wrongly
                continue
            outcomes[candidate.outcome] -= 1
            outcomes[steered.outcome] += 1
            plans[index] = steered
            break
    plans.sort(key=lambda p: p.spec.created_at)
    return plans


# --- execution --------------------------------------------------------------------------------


class Cast:
    """The people who act in the history: platform staff, unit staff and requesters."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.units = {u.code: u for u in Unit.objects.all()}
        self._actors: dict[str, Actor] = {}
        self._unit_staff: dict[int, list[Actor]] = {}
        self.system = system_actor()
        self.requester = requester_actor()
        self.public = Actor(roles=frozenset({"public"}), label="public")

    def staff(self, username: str) -> Actor:
        if username not in self._actors:
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.get(username=username)
            self._actors[username] = actor_for_user(user)
        return self._actors[username]

    def agent(self) -> Actor:
        name = self.rng.choices(("agent", "demo_agent_2", "demo_agent_3", "demo_agent_4"),
                                weights=(4, 2, 2, 2))[0]
        return self.staff(name)

    def dispatcher(self) -> Actor:
        return self.staff(self.rng.choices(("dispatcher", "demo_dispatcher_2"), weights=(3, 1))[0])

    def unit_staff(self, unit: Unit, *, replying: bool = False) -> Actor:
        """Someone of `unit` who signs and replies; demo logins where the unit has them."""
        if unit.pk not in self._unit_staff:
            from django.contrib.auth import get_user_model

            users = list(
                get_user_model().objects.filter(
                    staff_profile__unit=unit, is_active=True,
                    groups__name__in=[Role.HANDLER, Role.UNIT_LEADER],
                ).distinct().order_by("username")
            )
            if not users:
                login = people.Login(
                    f"{people.UNIT_STAFF_PREFIX}{unit.code.lower()}", Role.HANDLER, unit.code,
                    _staff_name(unit.code),
                )
                users = [ensure_staff(login, usable=False).user]
            self._unit_staff[unit.pk] = [actor_for_user(u) for u in users]
        staff = self._unit_staff[unit.pk]
        leaders = [a for a in staff if a.has(Role.UNIT_LEADER)]
        if replying and leaders and self.rng.random() < 0.3:
            return self.rng.choice(leaders)
        handlers = [a for a in staff if a.has(Role.HANDLER)] or staff
        return self.rng.choice(handlers)


    def leader_of(self, unit: Unit) -> Actor:
        """The unit's leader, who approves replies under escalated handling (a background
        login is made for units without a demo leader)."""
        self.unit_staff(unit)
        leaders = [a for a in self._unit_staff[unit.pk] if a.has(Role.UNIT_LEADER)]
        if not leaders:
            login = people.Login(
                f"{people.UNIT_STAFF_PREFIX}{unit.code.lower()}_leader", Role.UNIT_LEADER, unit.code,
                _staff_name(unit.code + "-leader"),
            )
            leader = actor_for_user(ensure_staff(login, usable=False).user)
            self._unit_staff[unit.pk].append(leader)
            leaders = [leader]
        return self.rng.choice(leaders)


def _staff_name(code: str) -> str:
    """A stable made-up name for a unit's background handler."""
    rng = random.Random(code)
    return person_name(rng)


@dataclass(frozen=True)
class Loaded:
    """A created ticket and the requester's access code (shown once, stored only hashed)."""

    id: int
    number: str
    access_code: str


def _run(plan: Plan, cast: Cast, categories_by_code: dict[str, Category]) -> Loaded:
    spec = plan.spec
    rng = random.Random(spec.rng_seed)
    data = dict(spec.data, category_id=categories_by_code[spec.template.category].pk)
    with clock.frozen_at(spec.created_at):
        submission = clean_submission(data, [], channel=spec.channel)
        submitter = cast.agent() if spec.channel == "hotline" else cast.public
        ticket, code = actions.submit(submitter, submission)
    for step in plan.steps:
        with clock.frozen_at(step.at):
            _take(step, ticket.pk, ticket.number, code, spec, cast, rng, submitter)
    return Loaded(ticket.pk, ticket.number, code)


def _take(step: Step, ticket_id: int, number: str, code: str, spec: Spec, cast: Cast,
          rng: random.Random, submitter: Actor) -> None:
    args = step.args
    if step.name == "direct_answer":
        # On the hotline the agent who took the call answers it; online, a dispatcher does.
        actor = submitter if spec.channel == "hotline" else cast.dispatcher()
        actions.direct_answer(actor, ticket_id, spec.template.answer.format(**spec.context))
    elif step.name == "dispatch":
        unit = cast.units[args["unit"]]
        assisting = [cast.units[c].pk for c in args.get("assisting", ()) if c in cast.units]
        actions.dispatch(cast.dispatcher(), ticket_id, unit.pk, assisting_unit_ids=assisting,
                         note=args.get("note", ""))
    elif step.name == "return":
        unit = cast.units[args["unit"]]
        actions.return_ticket(cast.unit_staff(unit), ticket_id, reason_code=args["reason"],
                              note=args["note"], legal_basis=args.get("legal_basis") or DEMO_LEGAL_BASIS)
    elif step.name == "sign":
        actions.sign(cast.unit_staff(cast.units[args["unit"]]), ticket_id)
    elif step.name == "reply":
        unit = cast.units[args["unit"]]
        if args.get("redo"):  # escalated handling: the handler writes, the leader approves
            actions.reply(cast.unit_staff(unit), ticket_id, rng.choice(REDO_REPLIES), outcome=args["outcome"])
        else:
            text = rng.choice(spec.template.replies).format(**spec.context, unit=unit.short_name or unit.name)
            actions.reply(cast.unit_staff(unit, replying=True), ticket_id, text, outcome=args.get("outcome", "resolved"))
    elif step.name == "approve_reply":
        feedback_actions.approve_reply(cast.leader_of(cast.units[args["unit"]]), ticket_id, note="同意，请按时落实。")
    elif step.name == "review":
        feedback_actions.review(cast.staff("supervisor"), ticket_id, decision=args["decision"],
                                explanation=args["explanation"])
    elif step.name == "rate":
        if args["rater"] == "visit":
            actions.rate(cast.agent(), ticket_id, rating=args["rating"], comment=args["comment"])
        else:
            actions.rate(cast.requester, None, rating=args["rating"], comment=args["comment"],
                         code=code, number=number)
    elif step.name == "request_extension":
        sla_actions.request_extension(
            cast.unit_staff(cast.units[args["unit"]]), ticket_id, reason_code=args["reason"],
            working_days=args["days"], explanation=args["explanation"],
        )
    elif step.name == "decide_extension":
        note = "" if args["approve"] else "理由不充分，请按原时限办结。"
        sla_actions.decide_extension(cast.staff("supervisor"), ticket_id, approve=args["approve"], note=note)
    elif step.name == "file_plan":
        sla_actions.file_plan(
            cast.unit_staff(cast.units[args["unit"]]), ticket_id,
            explanation="该诉求涉及业主表决、资金筹措和施工等环节，短期内难以办结。已电话向诉求人说明情况，"
            "制定分阶段解决方案，将按计划推进并及时反馈进展。",
            milestones=[{"title": title, "due_date": day} for title, day in args["milestones"]],
        )
    elif step.name == "decide_plan":
        sla_actions.decide_plan(cast.staff("supervisor"), ticket_id, approve=True)
    elif step.name == "record_milestone":
        milestone = Milestone.objects.get(plan__ticket_id=ticket_id, plan__status="approved", seq=args["seq"])
        sla_actions.record_milestone(
            cast.unit_staff(cast.units[args["unit"]]), ticket_id, milestone_id=milestone.pk,
            evidence=f"已按计划完成“{milestone.title}”，相关会议纪要和现场照片已存档。",
        )
    elif step.name == "close" and args["actor"] == "system":
        feedback_actions.close_unrated(clock.now(), ticket_ids=[ticket_id])
    elif step.name == "close":
        closer: Callable[[], Actor] = {
            "system": lambda: cast.system,
            "dispatcher": cast.dispatcher,
            "supervisor": lambda: cast.staff("supervisor"),
        }[args["actor"]]
        actions.close(closer(), ticket_id, note=args["note"])
    else:  # pragma: no cover - the planner makes only the steps above
        raise ValueError(step.name)


@contextmanager
def _quiet(loggers: tuple[str, ...] = ("huey", "minyi.tickets")) -> Iterator[None]:
    """Keep the per-ticket INFO lines of the actions and the task queue out of the output."""
    previous = {name: logging.getLogger(name).level for name in loggers}
    for name in loggers:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)


def load_tickets(count: int, *, seed: int, days: int = 60, now: dt.datetime | None = None,
                 quiet: bool = True) -> list[Loaded]:
    """Create `count` tickets with their whole history.

    Notifications are delivered synchronously (huey in immediate mode) so the load works
    without a worker; notifications older than a day are marked read, as staff would have.
    """
    from huey.contrib.djhuey import HUEY

    now = now or clock.now()
    unit_names = dict(Unit.objects.values_list("code", "short_name"))
    plans = plan_history(count, seed=seed, now=now, days=days, unit_names=unit_names)
    categories_by_code = {c.code: c for c in Category.objects.all()}
    cast = Cast(random.Random(seed + 1))
    previous = HUEY.immediate
    HUEY.immediate = True
    try:
        with _quiet() if quiet else nullcontext(), transaction.atomic():
            loaded = [_run(plan, cast, categories_by_code) for plan in plans]
            # What the periodic deadline job would have found by now: warnings and supervision.
            with clock.frozen_at(now):
                scan(now)
    finally:
        HUEY.immediate = previous
    ids = [ticket.id for ticket in loaded]
    Notification.objects.filter(ticket_id__in=ids, created_at__lt=now - DAY, read_at=None).update(
        read_at=F("created_at") + dt.timedelta(hours=2)
    )
    return loaded
