"""The measures page (考核指标, issue 7): who may open it and for which scope, the month's figures
exactly as `minyi.insights.kpi.monthly` computes them, and the six months behind the chart."""

from __future__ import annotations

import json
import re

import pytest

from minyi.tickets import actions

URL = "/console/kpis"


@pytest.fixture
def autumn(new_ticket, actors, travel):
    """October: one ticket closed satisfied. November: one closed satisfied, one rated
    dissatisfied, one still in progress; the clock then stands in November."""
    travel("2026-10-20T10:00")
    new_ticket("closed")
    travel("2026-11-02T10:00")
    new_ticket("closed")
    rated = new_ticket("replied")
    actions.rate(actors["agent"], rated.pk, rating="dissatisfied")
    new_ticket("in_progress")
    travel("2026-11-20T10:00")


def figure(html: str, key: str) -> str:
    found = re.search(rf'id="kpi-{key}" data-value="([^"]*)"', html)
    assert found, key
    return found.group(1)


def chart(html: str) -> dict:
    found = re.search(r'<script id="kpi-chart-data" type="application/json">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


@pytest.mark.parametrize("who", ["cityleader", "supervisor", "dispatcher", "admin"])
def test_platform_roles_see_the_citys_month(client_for, autumn, who):
    response = client_for(who).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-month="2026-11"' in html  # this month by default
    assert (figure(html, "received"), figure(html, "replied"), figure(html, "rated")) == ("3", "2", "2")
    assert (figure(html, "on_time_rate"), figure(html, "satisfaction_rate")) == ("1.0", "0.5")
    assert figure(html, "supervision_orders") == "0"
    assert 'name="unit"' in html and 'id="nav-kpis"' in html
    assert "web/vendor/echarts.min.js" in html and "web/kpis.js" in html


def test_the_chart_holds_the_last_six_months_rates(client_for, autumn):
    html = client_for("cityleader").get(URL, {"month": "2026-11"}).content.decode()
    data = chart(html)
    assert data["months"] == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    series = {item["key"]: item["data"] for item in data["series"]}
    assert list(series) == ["on_time_rate", "satisfaction_rate", "resolution_rate"]
    assert series["on_time_rate"] == [None, None, None, None, 100.0, 100.0]
    assert series["satisfaction_rate"] == [None, None, None, None, 100.0, 50.0]
    assert series["resolution_rate"] == [None, None, None, None, 100.0, 100.0]
    history = re.findall(r'<tr data-month="(\d{4}-\d\d)">', html)
    assert history == data["months"]


def test_another_month_a_unit_and_a_district(client_for, autumn, org):
    client = client_for("cityleader")
    october = client.get(URL, {"month": "2026-10"}).content.decode()
    assert (figure(october, "received"), figure(october, "satisfaction_rate")) == ("1", "1.0")
    assert chart(october)["months"][0] == "2026-05"
    transport = client.get(URL, {"month": "2026-11", "unit": org["transport"].pk}).content.decode()
    assert (figure(transport, "received"), figure(transport, "on_time_rate")) == ("0", "")
    nanshan = client.get(URL, {"month": "2026-11", "district": org["nanshan"].code}).content.decode()
    assert figure(nanshan, "received") == "0"
    futian = client.get(URL, {"month": "2026-11", "district": org["futian"].code}).content.decode()
    assert figure(futian, "received") == "3"


def test_a_units_staff_see_their_own_unit_only(client_for, autumn, org):
    client = client_for("handler")
    html = client.get(URL, {"month": "2026-11"}).content.decode()
    assert figure(html, "replied") == "2"
    assert 'name="unit"' not in html and org["housing"].name in html
    other = client.get(URL, {"unit": org["transport"].pk})
    assert other.status_code == 403
    assert client_for("leader").get(URL).status_code == 200
    assert figure(client_for("other_handler").get(URL, {"month": "2026-11"}).content.decode(), "replied") == "0"


def test_intake_agents_have_no_measures_page(client_for, autumn):
    client = client_for("agent")
    assert client.get(URL).status_code == 403
    assert 'id="nav-kpis"' not in client.get("/console/").content.decode()


def test_a_wrong_month_says_so_and_shows_this_month(client_for, autumn):
    response = client_for("cityleader").get(URL, {"month": "2026-13"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-field="month"' in html and 'data-month="2026-11"' in html


def test_the_vendored_chart_library_is_served(client_for):
    from django.contrib.staticfiles import finders

    path = finders.find("web/vendor/echarts.min.js")
    assert path is not None
    with open(path, encoding="utf-8") as handle:
        head = handle.read(4000)
    assert "Apache" in head and "echarts" in head
    assert finders.find("web/vendor/echarts.LICENSE") is not None
