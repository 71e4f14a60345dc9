"""Realistic Chinese texts for generated tickets: the demo's templates, rendered ahead of time.

Rendering a template for every one of millions of tickets would cost more than everything
else, so `build_variants` renders each template a few dozen times per district (places,
streets, names, amounts drawn from the demo gazetteer) and tickets pick one of those variants:
title, text, address, the platform's direct answer and the unit's replies stay consistent
with each other and with the ticket's district, street and handling unit. Relative dates
("昨天", "上周三") keep a variant right whatever day the ticket is from; a template that names
the year keeps a `{year}` the generator fills in.

Besides the demo templates there is the seed's hot issue: surcharges on water, electricity and
gas (`HOT_ISSUE`), whose volume falls 90% once the platform takes it up.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from minyi.org.demo import categories, history, regions, templates, units

#: The seed's class case: "居民用水电燃气违规加价" (illegal surcharges on utilities).
HOT_ISSUE = templates.T(
    "0502", "complaint",
    ["{estate}房东违规加价收取水电费", "{estate}物业转供电加价收费", "{estate}二房东燃气费加价"],
    ["我在{estate}{building}租房，房东按每度电1.5元、每吨水8元收取水电费，远高于政府定价，"
     "要求按居民电价和水价收费并退还多收的费用。",
     "{estate}物业对住户转供电，每度电在电网电价之外加收0.3元“服务费”，没有任何依据，请价格主管部门查处。",
     "{estate}{building}的二房东每月按固定标准收取燃气费，比燃气公司账单高出一倍多，要求查处并退费。"],
    ["您好！经核查，当事人存在向租户加价收取水电费的行为，违反了《中华人民共和国价格法》有关规定，"
     "我局已责令其立即整改，按政府定价收取并清退多收费用，同时依法立案查处。",
     "您好！{unit}已约谈{estate}物业服务企业，责令其停止转供电加价收费、公示电费分摊明细并清退多收费用，"
     "后续将组织回头看，防止问题反弹。"],
)
ALL_TEMPLATES: tuple[templates.Template, ...] = (*templates.TEMPLATES, HOT_ISSUE)
HOT_ISSUE_INDEX = len(ALL_TEMPLATES) - 1

#: Dates a variant may name without being wrong on another day.
RELATIVE_DATES = ("昨天", "前天", "上周末", "上周三", "上个月", "本月初")
HOTLINE_PREFIX = "来电人反映："
_FIXED = dt.datetime(2026, 1, 15, 10, 0, tzinfo=history.SHANGHAI)  # context_for's "now"; dates overridden


def copy_escape(value: str) -> str:
    """A value as PostgreSQL's COPY text format writes it."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


@dataclass(frozen=True)
class Variant:
    template: int
    district: int  # index into regions.DISTRICTS
    street: int  # index into the district's streets, -1 for none
    title: str  # escaped for COPY; may contain "{year}"
    text: str
    address: str  # plain (sealed by the caller)
    latitude: str  # "" when the channel does not locate the requester
    longitude: str
    answer: str  # the platform's direct answer (consultations)
    replies: tuple[str, ...]  # the unit's replies
    unit: str  # the right handling unit (code)
    wrong: tuple[str, str, str]  # a wrong first unit: (code, return reason code, the unit's note)


def route(node: categories.Node, district: regions.District, street_code: str | None) -> str:
    """The unit a dispatcher sends a ticket of category `node` at this place to (the demo
    history's rule: a district bureau where the category names one, the category's unit, the
    street office of the place, the district government)."""
    if node.district_bureau and district.code not in units.DISTRICTS_WITHOUT_BUREAUS:
        return units.district_bureau_code(district.code, node.district_bureau)
    if node.unit:
        return node.unit
    if street_code:
        return units.street_unit_code(street_code)
    return units.district_unit_code(district.code)


def wrong_route(rng: random.Random, right: str, district: regions.District, street: int,
                estate: str, names: dict[str, str]) -> tuple[str, str, str]:
    """A plausible wrong first dispatch, the reason the unit returns it and its note."""
    right_name = names.get(right, right)
    if units.is_street_unit(right) and len(district.streets) > 1:
        other = rng.choice([i for i in range(len(district.streets)) if i != street])
        note = f"经现场核实，{estate}不在我街道辖区，属{right_name}管辖范围，根据属地管理原则请改派。"
        return units.street_unit_code(district.street_code(other)), "wrong_locality", note
    if units.is_street_unit(right) or units.is_district_unit(right):
        wrong = rng.choice(("SZCGJ", "SZZJJ", "SZJYJ"))
        note = f"根据职责分工，该诉求属于{right_name}负责处置的事项，不属于我单位职责，请改派。"
        return wrong, "not_our_remit", note
    wrong = rng.choice([code for code, _n, _s in units.CITY_BUREAUS if code != right])
    if rng.random() < 0.5:
        note = f"该事项属于{right_name}的职责范围，不属于我单位职责，请改派。"
        return wrong, "not_our_remit", note
    note = f"经研究，该诉求涉及事项主要由{right_name}负责，我单位职责不清，请平台协调改派。"
    return wrong, "unclear_ownership", note


def build_variants(seed: int, per_place: int, short_names: dict[str, str],
                   full_names: dict[str, str]) -> list[Variant]:
    """`per_place` variants of every template in every district, in the order
    (template, district, variant): variant v of template t in district d is at
    ``(t * len(DISTRICTS) + d) * per_place + v``. Pure."""
    rng = random.Random(f"minyi-generate-texts-{seed}")
    leaves = {node.code: node for node, _ in categories.walk() if not node.children}
    out: list[Variant] = []
    for t, template in enumerate(ALL_TEMPLATES):
        node = leaves[template.category]
        every = " ".join((*template.titles, *template.texts, *template.replies, template.answer))
        names_place = any(key in every for key in ("{street}", "{estate}", "{road}"))
        for d, district in enumerate(regions.DISTRICTS):
            for _v in range(per_place):
                street = rng.randrange(len(district.streets))
                if not names_place and rng.random() < 0.4:
                    street = -1
                context = history.context_for(rng, district, district.streets[street] if street >= 0 else None, _FIXED)
                context["date"] = rng.choice(RELATIVE_DATES)
                context["year"] = "{year}"
                street_code = district.street_code(street) if street >= 0 else None
                right = route(node, district, street_code)
                unit_name = short_names.get(right) or full_names.get(right, right)
                if "{estate}" in every:
                    address = f"{context['estate']}{context['building']}"
                elif "{road}" in every:
                    address = f"{context['road']}{rng.randint(1, 399)}号附近"
                else:
                    address = ""
                lat = lon = ""
                if address:
                    centre_lat, centre_lon = district.centre
                    lat = f"{centre_lat + rng.uniform(-0.025, 0.025):.6f}"
                    lon = f"{centre_lon + rng.uniform(-0.03, 0.03):.6f}"
                out.append(Variant(
                    template=t, district=d, street=street,
                    title=copy_escape(rng.choice(template.titles).format(**context)[:100]),
                    text=copy_escape(rng.choice(template.texts).format(**context)),
                    address=address, latitude=lat, longitude=lon,
                    answer=copy_escape(template.answer.format(**context)) if template.answer else "",
                    replies=tuple(copy_escape(r.format(**context, unit=unit_name)) for r in template.replies),
                    unit=right,
                    wrong=wrong_route(rng, right, district, street, context["estate"], full_names),
                ))
    return out
