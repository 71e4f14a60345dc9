"""Routing resolution and the office-time clock, as tables. Pure: no database.

Category chain in these tables: 3 (leaf) → 2 → 1 (root). District 10 has streets 100 and 101;
district 20 has street 200.
"""

from __future__ import annotations

import datetime as dt

import pytest

from minyi.dispatch.routing import Facts, Rule, Suggestion, resolve
from minyi.dispatch.timing import office_deadline
from minyi.sla.calendar import package_calendar
from minyi.sla.policies import SHANGHAI

FACTS = Facts(category_chain=(3, 2, 1), district_id=10, street_id=100)

ANY_ROOT = Rule(1, category_id=1, lead_unit_id=501)
ANY_LEAF = Rule(2, category_id=3, lead_unit_id=502)
DISTRICT_ROOT = Rule(3, category_id=1, lead_unit_id=503, district_id=10)
STREET_ROOT = Rule(4, category_id=1, lead_unit_id=504, street_id=100, assisting_unit_ids=(601, 504))
OTHER_STREET = Rule(5, category_id=3, lead_unit_id=505, street_id=101)
OTHER_DISTRICT = Rule(6, category_id=3, lead_unit_id=506, district_id=20)
OTHER_CATEGORY = Rule(7, category_id=9, lead_unit_id=507)
ANY_ROOT_HIGH = Rule(8, category_id=1, lead_unit_id=508, priority=5)
DISTRICT_LOW = Rule(9, category_id=3, lead_unit_id=509, district_id=10, priority=-1)
STREET_WRONG_DISTRICT = Rule(10, category_id=3, lead_unit_id=510, district_id=20, street_id=100)
ANY_ROOT_TWIN = Rule(11, category_id=1, lead_unit_id=511)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        # Street > district > anywhere, whatever the category depth or priority.
        ([ANY_LEAF, DISTRICT_ROOT, STREET_ROOT], Suggestion(504, "rule", 4, (601,), "street")),
        ([ANY_LEAF, DISTRICT_ROOT], Suggestion(503, "rule", 3, (), "district")),
        ([ANY_ROOT_HIGH, DISTRICT_LOW], Suggestion(509, "rule", 9, (), "district")),
        # Same place: the higher priority, then the nearer category, then the older rule.
        ([ANY_LEAF, ANY_ROOT_HIGH], Suggestion(508, "rule", 8, (), "any")),
        ([ANY_ROOT, ANY_LEAF], Suggestion(502, "rule", 2, (), "any")),
        ([ANY_ROOT_TWIN, ANY_ROOT], Suggestion(501, "rule", 1, (), "any")),
        # Rules for another place or category never match.
        ([OTHER_STREET, OTHER_DISTRICT, OTHER_CATEGORY, STREET_WRONG_DISTRICT, ANY_ROOT],
         Suggestion(501, "rule", 1, (), "any")),
    ],
)
def test_the_most_specific_rule_wins(rules, expected):
    assert resolve(FACTS, rules) == expected
    assert resolve(FACTS, list(reversed(rules))) == expected  # the order of the rows is irrelevant


NO_RULES = [OTHER_STREET, OTHER_DISTRICT, OTHER_CATEGORY]


@pytest.mark.parametrize(
    ("defaults", "street_office", "district_government", "expected"),
    [
        ((None, 702, 701), 800, 900, Suggestion(702, "category_default")),  # the nearest usual unit
        ((None, None, 701), 800, 900, Suggestion(701, "category_default")),
        ((None, None, None), 800, 900, Suggestion(800, "street_office")),
        ((), 800, 900, Suggestion(800, "street_office")),
        ((), None, 900, Suggestion(900, "district_government")),
        ((), None, None, Suggestion(None, "none")),
    ],
)
def test_fallbacks(defaults, street_office, district_government, expected):
    facts = Facts((3, 2, 1), 10, 100, defaults, street_office, district_government)
    assert resolve(facts, NO_RULES) == expected
    assert resolve(facts, NO_RULES).explicit is False


def test_only_rules_are_explicit():
    assert resolve(FACTS, [ANY_ROOT]).explicit is True


def test_a_ticket_without_a_street_matches_district_and_anywhere_rules_only():
    facts = Facts((3, 2, 1), 10, None)
    assert resolve(facts, [STREET_ROOT, DISTRICT_LOW, ANY_ROOT_HIGH]).rule_id == DISTRICT_LOW.id


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("received", "minutes", "due"),
    [
        ("2026-11-03 10:00", 60, "2026-11-03 11:00"),  # Tuesday, in office time
        ("2026-11-03 17:30", 60, "2026-11-04 09:30"),  # runs over into the next morning
        ("2026-11-03 07:00", 60, "2026-11-03 10:00"),  # before office hours: from 09:00
        ("2026-11-03 20:00", 60, "2026-11-04 10:00"),  # after office hours
        ("2026-11-06 17:45", 60, "2026-11-09 09:45"),  # Friday evening → Monday
        ("2026-11-07 11:00", 60, "2026-11-09 10:00"),  # Saturday → Monday
        ("2026-11-03 09:00", 540, "2026-11-03 18:00"),  # one working day of office time
        ("2026-11-03 10:00", 540, "2026-11-04 10:00"),
        ("2026-09-30 17:30", 60, "2026-10-08 09:30"),  # National Day holiday (1-7 Oct): after the break
        ("2026-10-10 10:00", 60, "2026-10-10 11:00"),  # a make-up working Saturday (调休) counts
    ],
)
def test_office_time(received, minutes, due):
    assert office_deadline(at(received), minutes, package_calendar()) == at(due)
