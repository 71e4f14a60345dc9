"""Time limits in the console and the portal: the running deadline and its warning in every
worklist, both clocks on the ticket page, extensions, staged-closure plans, supervision orders,
the missing-holiday-notice warning and the intake form's deadline preview."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from minyi.core import clock
from minyi.sla import services
from minyi.sla.calendar import PACKAGE_YEARS, package_calendar
from minyi.sla.models import Extension, HolidayNotice, Milestone, StagedPlan, TimeLimitPolicy
from minyi.sla.policies import count_deadline
from minyi.supervision import actions as supervision
from minyi.supervision.models import SupervisionOrder
from minyi.tickets import actions
from minyi.tickets.models import Attachment, Ticket, TicketEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def at(text: str) -> dt.datetime:
    """A moment in Shanghai time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


#: Monday 2 March 2026: a complaint (15 working days) is received ...
RECEIVED = at("2026-03-02 09:00")
#: ... and dispatched and signed for the next day. Its deadlines: the requester's 23 March,
#: the unit's 24 March (both 23:59:59).
DISPATCHED = at("2026-03-03 10:00")
#: When the pages are looked at.
NOW = at("2026-03-10 10:00")

#: The last year the installed `chinesecalendar` knows: deadlines counted from its last days
#: into the next year are provisional until that year's notice is loaded.
LAST_KNOWN = max(PACKAGE_YEARS)
NEXT_YEAR = LAST_KNOWN + 1
YEAR_END = at(f"{LAST_KNOWN}-12-20 10:00")
YEAR_END_DISPATCHED = at(f"{LAST_KNOWN}-12-21 10:00")
YEAR_END_NOW = at(f"{LAST_KNOWN}-12-22 10:00")


def expected_due(received: dt.datetime, working_days: int = 15) -> str:
    """A deadline counted on the package calendar, as pages print it."""
    return local(count_deadline(received, working_days, package_calendar()).at)


@pytest.fixture(autouse=True)
def _fresh_calendar():
    """Each test reads the holiday notices of its own database."""
    services.invalidate_calendar()
    yield
    services.invalidate_calendar()


@pytest.fixture
def walk(new_ticket, org, actors):
    """`walk(status, received=..., dispatched=..., **fields)`: a ticket through the actions,
    received and dispatched (to the housing bureau) at the given moments."""

    def make(status="in_progress", received=RECEIVED, dispatched=DISPATCHED, **fields):
        with clock.frozen_at(received):
            ticket = new_ticket("submitted", **fields)
        code = ticket.access_code
        if status != "submitted":
            with clock.frozen_at(dispatched):
                actions.dispatch(actors["dispatcher"], ticket.pk, org["housing"].pk)
                if status != "dispatched":
                    actions.sign(actors["handler"], ticket.pk)
                if status == "replied":
                    actions.reply(actors["handler"], ticket.pk, "已处理完毕。", outcome="resolved")
        ticket.refresh_from_db()
        ticket.access_code = code
        return ticket

    return make


def get(client, url, now=NOW, **params):
    with clock.frozen_at(now):
        return client.get(url, params)


def post_action(client, ticket, name, data=None, now=NOW, htmx=True):
    extra = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "ticket-panel"} if htmx else {}
    with clock.frozen_at(now):
        return client.post(f"/console/tickets/{ticket.pk}/{name}", data or {}, **extra)


def rows(html: str) -> list[tuple[str, str]]:
    """(number, warning) of the worklist's rows, in order."""
    return re.findall(r'<tr class="[^"]*" data-number="([^"]+)" data-warning="([a-z_]*)">', html)


def row_html(html: str, number: str) -> str:
    return re.search(rf'data-number="{number}".*?</tr>', html, re.S).group(0)


def action_forms(html: str) -> list[str]:
    """The actions the page offers, in order: its forms, and the folded ones it loads when unfolded."""
    found = re.findall(r'data-action="([a-z_]+)"|<details[^>]* data-fold="([a-z_]+)"[^>]* hx-get=', html)
    return [form or fold for form, fold in found]


def field_errors(html: str, field: str) -> list[str]:
    return re.findall(rf'<p class="error" role="alert" data-field="{field}">([^<]+)</p>', html)


def alert(html: str) -> str:
    found = re.search(r'<div class="alert alert-error" role="alert"[^>]*>\s*(?:<p>)?([^<]+)', html)
    return found.group(1).strip() if found else ""


def section(html: str, element_id: str) -> str:
    """The element with this id, up to its own closing tag (nested ones of its kind counted)."""
    start = re.search(rf'<(\w+)\b[^>]*\sid="{element_id}"', html)
    assert start, element_id
    tag, depth = start.group(1), 0
    for match in re.compile(rf"<(/?){tag}\b[^>]*>").finditer(html, start.start()):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return html[start.start() : match.end()]
    raise AssertionError(f"{element_id} is not closed")


def state(ticket) -> tuple:
    """What a refused act must leave unchanged."""
    ticket.refresh_from_db()
    return (
        ticket.status,
        ticket.due_at,
        ticket.unit_due_at,
        ticket.extended_days,
        TicketEvent.objects.filter(ticket=ticket).count(),
        Extension.objects.filter(ticket=ticket).count(),
        list(StagedPlan.objects.filter(ticket=ticket).values_list("status", flat=True)),
        list(Milestone.objects.filter(plan__ticket=ticket).values_list("done_at", flat=True)),
        Attachment.objects.filter(ticket=ticket).count(),
    )


def local(moment) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


# --- the worklist ----------------------------------------------------------------------------


@pytest.fixture
def spread(walk, org):
    """Tickets whose running deadlines fall before, on and after NOW, and one without a clock."""
    return {
        # The requester's clock (at the platform): a consultation due 4 March.
        "overdue": walk(
            "submitted", type="consultation", category_id=org["bus"].pk, title="咨询一"
        ),
        # At the unit: due 24 March.
        "on_time": walk("in_progress", title="投诉一"),
        # A consultation received Friday 6 March is due Tuesday 10 March: today.
        "due_soon": walk(
            "submitted",
            received=at("2026-03-06 10:00"),
            type="consultation",
            category_id=org["bus"].pk,
            title="咨询二",
        ),
        # Replied: waiting for the requester, no clock runs.
        "replied": walk("replied", title="投诉二"),
    }


def test_every_row_shows_the_running_deadline_with_its_warning(client_for, spread):
    html = get(client_for("dispatcher"), "/console/", tab="all").content.decode()
    numbers = {t.number: name for name, t in spread.items()}
    assert {numbers[n]: w for n, w in rows(html)} == {
        "overdue": "overdue",
        "on_time": "on_time",
        "due_soon": "due_soon",
        "replied": "",
    }
    overdue = row_html(html, spread["overdue"].number)
    assert "2026-03-04 23:59" in overdue and "已超期" in overdue
    # At the unit the unit's deadline runs (24 March), not the requester's (23 March).
    on_time = row_html(html, spread["on_time"].number)
    assert "2026-03-24 23:59" in on_time and "2026-03-23" not in on_time and "正常" in on_time
    assert "即将到期" in row_html(html, spread["due_soon"].number)
    replied = row_html(html, spread["replied"].number)
    assert 'class="muted">—<' in replied and "badge warning" not in replied


def test_every_tab_shows_the_badges(client_for, spread):
    for who, tab, name in [
        ("dispatcher", "dispatch", "overdue"),
        ("handler", "in_progress", "on_time"),
        ("supervisor", "all", "due_soon"),
    ]:
        html = get(client_for(who), "/console/", tab=tab).content.decode()
        assert f'data-number="{spread[name].number}" data-warning="{name}"' in html, (who, tab)
        assert f'data-warning="{name}">' in row_html(html, spread[name].number)


def test_sorting_by_time_left_puts_tickets_without_a_clock_last(client_for, spread, walk):
    late_year = walk("submitted", received=YEAR_END, title="年底投诉")
    client = client_for("dispatcher")
    html = get(client, "/console/", tab="all", sort="time_left").content.decode()
    order = [number for number, _w in rows(html)]
    assert order == [
        spread["overdue"].number,
        spread["due_soon"].number,
        spread["on_time"].number,
        late_year.number,
        spread["replied"].number,
    ]
    assert 'aria-sort="ascending"' in html
    assert '<option value="time_left" selected>' in html
    newest = [number for number, _w in rows(get(client, "/console/", tab="all").content.decode())]
    assert newest[0] == late_year.number and newest != order
    # The header link sorts and keeps the filters.
    plain = get(client, "/console/", tab="all", type="complaint").content.decode()
    assert 'href="?tab=all&amp;type=complaint&amp;sort=time_left"' in plain


@pytest.mark.parametrize(
    ("warning", "expected"),
    [("overdue", {"overdue"}), ("due_soon", {"due_soon"}), ("on_time", {"on_time"}), ("", None)],
)
def test_filter_by_warning_state(client_for, spread, warning, expected):
    html = get(client_for("supervisor"), "/console/", tab="all", warning=warning).content.decode()
    listed = {number for number, _w in rows(html)}
    if expected is None:
        assert listed == {t.number for t in spread.values()}
    else:
        assert listed == {spread[name].number for name in expected}


def test_the_warning_filter_reloads_only_the_table(client_for, spread):
    client = client_for("dispatcher")
    with clock.frozen_at(NOW):
        partial = client.get(
            "/console/",
            {"tab": "all", "warning": "overdue", "sort": "time_left"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="worklist-table",
        ).content.decode()
    assert partial.lstrip().startswith('<div id="worklist-table"')
    assert [n for n, _w in rows(partial)] == [spread["overdue"].number]


def test_the_soon_window_follows_the_setting(client_for, spread, settings):
    settings.MINYI_DUE_SOON_WORKING_DAYS = 15
    html = get(client_for("dispatcher"), "/console/", tab="all").content.decode()
    warnings = dict(rows(html))
    assert warnings[spread["on_time"].number] == "due_soon"


def test_worklist_and_ticket_page_agree_on_the_warning(client_for, spread):
    client = client_for("supervisor")
    listed = dict(rows(get(client, "/console/", tab="all").content.decode()))
    for ticket in spread.values():
        page = get(client, f"/console/tickets/{ticket.pk}/").content.decode()
        badge = re.search(r'id="ticket-warning" data-warning="([a-z_]+)"', page)
        assert (badge.group(1) if badge else "") == listed[ticket.number]


def test_a_provisional_deadline_is_marked(client_for, walk):
    ticket = walk("in_progress", received=YEAR_END, dispatched=YEAR_END_DISPATCHED)
    assert ticket.due_provisional and ticket.unit_due_provisional
    html = get(client_for("handler"), "/console/", now=YEAR_END_NOW, tab="all")
    row = row_html(html.content.decode(), ticket.number)
    assert expected_due(YEAR_END_DISPATCHED) in row and "暂定" in row


def test_tab_counts_in_one_query_stay_right(client_for, spread, walk, org, actors):
    other = walk("dispatched", title="待签收")
    html = get(client_for("handler"), "/console/").content.decode()
    counts = dict(re.findall(r'data-tab="(\w+)">[^<]+<span class="count">(\d+)</span>', html))
    # "All" shows no count: at Shenzhen's scale it would count a unit's whole history.
    assert counts == {"sign": "1", "in_progress": "1", "replied": "1"}
    assert other.number in html
    # A ticket the bureau assists with counts once, and not as its own to sign for.
    assisted = walk("submitted", title="协办")
    with clock.frozen_at(DISPATCHED):
        actions.dispatch(
            actors["dispatcher"],
            assisted.pk,
            org["transport"].pk,
            assisting_unit_ids=[org["housing"].pk, org["street_office"].pk],
        )
    html = get(client_for("handler"), "/console/").content.decode()
    counts = dict(re.findall(r'data-tab="(\w+)">[^<]+<span class="count">(\d+)</span>', html))
    assert counts == {"sign": "1", "in_progress": "1", "replied": "1"}
    leader = get(client_for("leader"), "/console/", tab="all").content.decode()
    assert len(rows(leader)) == 4


@pytest.mark.parametrize("who", ["dispatcher", "handler", "supervisor"])
def test_the_worklist_query_count_is_bounded(client_for, walk, who, django_assert_max_num_queries):
    client = client_for(who)
    for i in range(3):
        walk("in_progress", title=f"工单{i}")
    params = {"tab": "all", "sort": "time_left", "warning": "on_time"}
    get(client, "/console/", **params)  # warm the session
    # The header counts the queues of the user's roles (supervision, reviews, quality findings).
    with django_assert_max_num_queries(17):
        small = get(client, "/console/", **params)
    for i in range(12):
        walk("in_progress", title=f"更多{i}")
    with clock.frozen_at(NOW), django_assert_max_num_queries(17):
        large = client.get("/console/", params)
    assert len(rows(large.content.decode())) == 15 > len(rows(small.content.decode())) == 3


# --- the ticket page: clocks -----------------------------------------------------------------


def test_the_page_shows_both_clocks_and_which_runs(client_for, walk):
    ticket = walk("in_progress")
    html = get(client_for("handler"), f"/console/tickets/{ticket.pk}/").content.decode()
    requester = section(html, "clock-requester")
    unit = section(html, "clock-unit")
    assert "诉求人期限" in requester and "2026-03-23 23:59" in requester
    assert "badge warning" not in requester  # the requester's clock does not run now
    assert "承办期限" in unit and "2026-03-24 23:59" in unit and "正常" in unit
    assert 'class="clock running" id="clock-unit"' in html
    assert "15 个工作日" in section(html, "time-limits")
    assert section(html, "extensions-used").endswith(">0 / 2</dd>")


def test_the_page_marks_provisional_deadlines(client_for, walk):
    ticket = walk("in_progress", received=YEAR_END, dispatched=YEAR_END_DISPATCHED)
    html = get(client_for("handler"), f"/console/tickets/{ticket.pk}/", now=YEAR_END_NOW)
    html = html.content.decode()
    assert "期限暂定" in html
    assert "暂定" in section(html, "clock-requester") and "暂定" in section(html, "clock-unit")


def test_a_replied_ticket_runs_no_clock(client_for, walk):
    ticket = walk("replied")
    html = get(client_for("handler"), f"/console/tickets/{ticket.pk}/").content.decode()
    assert 'id="ticket-warning"' not in html
    assert "当前不计时" in html


# --- extensions ------------------------------------------------------------------------------

EXTENSION = {
    "reason_code": "hard_case",
    "working_days": "5",
    "explanation": "需协调多个部门联合处置。",
}


def test_the_extension_form_offers_the_active_reasons(client_for, walk):
    from minyi.sla.models import ExtensionReason

    ExtensionReason.objects.filter(code="other").update(active=False)
    ticket = walk("in_progress")
    handler = client_for("handler")
    html = get(handler, f"/console/tickets/{ticket.pk}/").content.decode()
    # Folded, and not built: the page loads it when it is unfolded.
    fold = re.search(r'<details class="action-fold" id="action-request_extension" data-fold="request_extension"[^>]*>', html).group(0)
    assert " open" not in fold and f'hx-get="/console/tickets/{ticket.pk}/form/request_extension"' in fold
    assert 'data-action="request_extension"' not in html and 'name="working_days"' not in html
    loaded = get(handler, f"/console/tickets/{ticket.pk}/form/request_extension").content.decode()
    # Without scripts, the link under the fold shows the page with the form open.
    unfolded = get(handler, f"/console/tickets/{ticket.pk}/?open=request_extension").content.decode()
    assert '<details class="action-fold" id="action-request_extension" data-fold="request_extension" open>' in unfolded
    for page in (loaded, unfolded):
        form = re.search(r'<form[^>]*data-action="request_extension".*?</form>', page, re.S).group(0)
        assert '<option value="hard_case">办理难度大</option>' in form
        assert '<option value="natural_disaster">' in form and 'value="other"' not in form
        assert 'name="working_days"' in form and 'name="explanation"' in form
        assert "已批准延期 0 次，最多 2 次" in form


def test_a_folded_form_is_not_loaded_for_who_may_not_use_it(client_for, walk):
    ticket = walk("in_progress")
    response = get(client_for("dispatcher"), f"/console/tickets/{ticket.pk}/form/request_extension")
    assert response.status_code in (404, 409)
    assert 'name="working_days"' not in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"working_days": "0"}, "working_days", "请申请 1 至 30 个工作日。"),
        ({"working_days": "abc"}, "working_days", "请申请 1 至 30 个工作日。"),
        ({"working_days": "31"}, "working_days", "请申请 1 至 30 个工作日。"),
        ({"reason_code": ""}, "reason_code", "请选择延期理由。"),
        ({"reason_code": "made_up"}, "reason_code", "请选择延期理由。"),
        ({"explanation": "  "}, "explanation", "请填写内容。"),
    ],
)
def test_a_bad_extension_request_is_refused_on_its_field(
    client_for, walk, overrides, field, message
):
    ticket = walk("in_progress")
    before = state(ticket)
    response = post_action(
        client_for("handler"), ticket, "request_extension", {**EXTENSION, **overrides}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert field_errors(html, field) == [message]
    # The refused form stays open with what was typed.
    assert '<details class="action-fold" id="action-request_extension" data-fold="request_extension" open>' in html
    assert state(ticket) == before


def test_an_extension_is_requested_then_approved(client_for, walk):
    ticket = walk("in_progress")
    handler, supervisor = client_for("handler"), client_for("supervisor")
    response = post_action(handler, ticket, "request_extension", EXTENSION)
    assert response.status_code == 200
    html = response.content.decode()
    assert "已提交延期申请，待督办人员审批。" in html
    assert "request_extension" not in action_forms(html)  # one pending at a time
    extension = Extension.objects.get(ticket=ticket)
    assert (extension.status, extension.working_days, extension.reason.code) == (
        "pending",
        5,
        "hard_case",
    )
    record = section(html, "extensions")
    assert (
        "待审批" in record and "延长 5 个工作日" in record and "需协调多个部门联合处置。" in record
    )

    # The supervisor sees the application and what the deadlines would become.
    page = get(supervisor, f"/console/tickets/{ticket.pk}/").content.decode()
    assert action_forms(page) == ["decide_extension"]
    pending = section(page, "pending-extension")
    assert "办理难度大" in pending and "需协调多个部门联合处置。" in pending
    assert "2026-03-30 23:59" in pending and "2026-03-31 23:59" in pending
    assert 'name="decision" value="approve"' in page and 'name="decision" value="refuse"' in page

    approved = post_action(
        supervisor, ticket, "decide_extension", {"decision": "approve", "note": "同意"}
    )
    assert approved.status_code == 200
    html = approved.content.decode()
    assert "已批准延期，新的办理期限已告知诉求人。" in html
    ticket.refresh_from_db()
    assert (
        local(ticket.due_at) == "2026-03-30 23:59"
        and local(ticket.unit_due_at) == "2026-03-31 23:59"
    )
    assert ticket.extended_days == 5
    assert "2026-03-31 23:59" in section(html, "clock-unit")
    assert "2026-03-30 23:59" in section(html, "clock-requester")
    record = section(html, "extensions")
    assert "已批准" in record and "2026-03-23 23:59" in record and "2026-03-30 23:59" in record
    assert "同意" in record
    assert "20 个工作日" in section(html, "time-limits") and "含延期 5 个工作日" in html
    assert section(html, "extensions-used").endswith(">1 / 2</dd>")
    timeline = section(html, "timeline")
    assert "申请延期" in timeline and "办理时限已延长" in timeline
    assert "办理时限延长 5 个工作日（办理难度大），新的办理期限：2026-03-30 23:59。" in timeline
    # The handler may apply again (one of two used).
    assert "request_extension" in action_forms(
        get(handler, f"/console/tickets/{ticket.pk}/").content.decode()
    )


def test_the_requester_reads_the_extension_notice_but_not_the_application(client_for, walk, actors):
    ticket = walk("in_progress")
    post_action(client_for("handler"), ticket, "request_extension", EXTENSION)
    post_action(client_for("supervisor"), ticket, "decide_extension", {"decision": "approve"})
    client = Client()
    client.post("/track/", {"number": ticket.number, "code": ticket.access_code})
    html = client.get(f"/track/{ticket.number}/").content.decode()
    assert "办理时限已延长" in html
    assert "办理时限延长 5 个工作日（办理难度大），新的办理期限：2026-03-30 23:59。" in html
    assert "2026-03-30 23:59" in section(html, "track-due")
    assert "需协调多个部门联合处置" not in html  # the unit's internal explanation
    assert "申请延期" not in html and "supervisor" not in html


def test_refusing_needs_a_note_and_a_decision(client_for, walk):
    ticket = walk("in_progress")
    post_action(client_for("handler"), ticket, "request_extension", EXTENSION)
    supervisor = client_for("supervisor")
    before = state(ticket)
    no_note = post_action(supervisor, ticket, "decide_extension", {"decision": "refuse"})
    assert no_note.status_code == 422
    assert field_errors(no_note.content.decode(), "note") == ["请说明不予批准延期的理由。"]
    no_choice = post_action(supervisor, ticket, "decide_extension", {"note": "同意"})
    assert no_choice.status_code == 422
    assert "请选择批准或不予批准。" in no_choice.content.decode()
    assert state(ticket) == before

    refused = post_action(
        supervisor, ticket, "decide_extension", {"decision": "refuse", "note": "可在期限内办结"}
    )
    assert refused.status_code == 200 and "已不予批准延期。" in refused.content.decode()
    ticket.refresh_from_db()
    assert local(ticket.unit_due_at) == "2026-03-24 23:59" and ticket.extended_days == 0
    record = section(refused.content.decode(), "extensions")
    assert "未批准" in record and "可在期限内办结" in record


def test_a_decision_already_taken_is_not_taken_twice(client_for, walk):
    """A second click from a page opened before the first decision changes nothing."""
    ticket = walk("in_progress")
    post_action(client_for("handler"), ticket, "request_extension", EXTENSION)
    supervisor = client_for("supervisor")
    assert (
        post_action(supervisor, ticket, "decide_extension", {"decision": "approve"}).status_code
        == 200
    )
    before = state(ticket)
    again = post_action(supervisor, ticket, "decide_extension", {"decision": "approve"})
    assert again.status_code == 409
    assert alert(again.content.decode()) == "没有待审批的延期申请。"
    assert state(ticket) == before


def test_only_a_supervisor_decides(client_for, walk):
    ticket = walk("in_progress")
    post_action(client_for("handler"), ticket, "request_extension", EXTENSION)
    before = state(ticket)
    response = post_action(
        client_for("handler"), ticket, "decide_extension", {"decision": "approve"}
    )
    assert response.status_code == 403
    assert alert(response.content.decode()) == "您的角色无权执行此操作。"
    assert state(ticket) == before
    # Another unit cannot even see the ticket.
    other = post_action(client_for("other_handler"), ticket, "request_extension", EXTENSION)
    assert other.status_code == 404


def test_no_extension_after_the_deadline(client_for, walk):
    ticket = walk("in_progress")
    late = at("2026-03-25 09:00")
    handler = client_for("handler")
    page = get(handler, f"/console/tickets/{ticket.pk}/", now=late).content.decode()
    assert "request_extension" not in action_forms(page)
    before = state(ticket)
    response = post_action(handler, ticket, "request_extension", EXTENSION, now=late)
    assert response.status_code == 409
    assert alert(response.content.decode()) == "已超过办理期限：延期须在期限届满前申请。"
    assert state(ticket) == before


def test_at_most_two_extensions(client_for, walk):
    ticket = walk("in_progress")
    handler, supervisor = client_for("handler"), client_for("supervisor")
    for _ in range(2):
        assert post_action(handler, ticket, "request_extension", EXTENSION).status_code == 200
        assert (
            post_action(supervisor, ticket, "decide_extension", {"decision": "approve"}).status_code
            == 200
        )
    page = get(handler, f"/console/tickets/{ticket.pk}/").content.decode()
    assert "request_extension" not in action_forms(page)
    assert section(page, "extensions-used").endswith(">2 / 2</dd>")
    before = state(ticket)
    response = post_action(handler, ticket, "request_extension", EXTENSION)
    assert response.status_code == 409
    assert alert(response.content.decode()) == "每张工单最多延期 2 次。"
    assert state(ticket) == before


def test_an_extension_without_javascript_redirects(client_for, walk):
    ticket = walk("in_progress")
    response = post_action(
        client_for("handler"), ticket, "request_extension", EXTENSION, htmx=False
    )
    assert response.status_code == 302 and response["Location"] == f"/console/tickets/{ticket.pk}/"
    assert Extension.objects.filter(ticket=ticket, status="pending").count() == 1


# --- staged-closure plans ----------------------------------------------------------------------


def plan_data(*rows_, explanation="加装电梯需业主表决，已向诉求人说明。"):
    titles = [title for title, _date in rows_] + ["", "", ""]
    dates = [date for _title, date in rows_] + ["", "", ""]
    return {"explanation": explanation, "milestone_title": titles, "milestone_date": dates}


PLAN = plan_data(("召开业主大会表决", "2026-03-20"), ("完成加装电梯审批", "2026-04-30"))


def test_the_plan_form_has_blank_milestone_rows(client_for, walk):
    ticket = walk("in_progress")
    html = get(client_for("handler"), f"/console/tickets/{ticket.pk}/form/file_plan").content.decode()
    form = re.search(r'<form[^>]*data-action="file_plan".*?</form>', html, re.S).group(0)
    assert form.count('name="milestone_title"') == 5 and form.count('type="date"') == 5
    assert 'data-max="12"' in form and "增加节点" in form


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            plan_data(("完成审批", "2026-04-30"), ("召开业主大会", "2026-03-20")),
            "节点须按日期先后排列，每个节点晚于前一个。",
        ),
        (plan_data(), "计划至少需要一个带日期的节点。"),
        (plan_data(("召开业主大会", "")), "每个节点都需要填写日期（YYYY-MM-DD）。"),
        (plan_data(("", "2026-03-20")), "每个节点都需要填写工作内容。"),
        (plan_data(("召开业主大会", "2026-03-01")), "节点日期不能早于今天。"),
    ],
)
def test_a_bad_plan_is_refused_and_keeps_the_rows(client_for, walk, data, message):
    ticket = walk("in_progress")
    before = state(ticket)
    response = post_action(client_for("handler"), ticket, "file_plan", data)
    assert response.status_code == 422
    html = response.content.decode()
    assert field_errors(html, "milestones") == [message]
    for title in data["milestone_title"]:
        if title:
            assert f'value="{title}"' in html
    assert state(ticket) == before


def test_a_plan_is_filed_approved_and_tracked(client_for, walk):
    ticket = walk("in_progress")
    handler, supervisor = client_for("handler"), client_for("supervisor")
    filed = post_action(handler, ticket, "file_plan", PLAN)
    assert filed.status_code == 200 and "已报送计划，待督办人员审批。" in filed.content.decode()
    plan = StagedPlan.objects.get(ticket=ticket)
    assert plan.status == "pending"
    assert list(plan.milestones.values_list("seq", "title", "due_date")) == [
        (1, "召开业主大会表决", dt.date(2026, 3, 20)),
        (2, "完成加装电梯审批", dt.date(2026, 4, 30)),
    ]
    assert "file_plan" not in action_forms(filed.content.decode())

    page = get(supervisor, f"/console/tickets/{ticket.pk}/").content.decode()
    assert action_forms(page) == ["decide_plan"]
    pending = section(page, "pending-plan")
    assert (
        "加装电梯需业主表决" in pending
        and "2026-04-30" in pending
        and "召开业主大会表决" in pending
    )

    before = state(ticket)
    no_note = post_action(supervisor, ticket, "decide_plan", {"decision": "refuse"})
    assert no_note.status_code == 422
    assert field_errors(no_note.content.decode(), "note") == ["请说明不予批准计划的理由。"]
    assert state(ticket) == before

    approved = post_action(supervisor, ticket, "decide_plan", {"decision": "approve"})
    assert approved.status_code == 200
    assert "已批准计划，工单将按计划跟踪办理。" in approved.content.decode()
    ticket.refresh_from_db()
    assert local(ticket.unit_due_at) == "2026-04-30 23:59"
    html = get(handler, f"/console/tickets/{ticket.pk}/").content.decode()
    plans = section(html, "plans")
    assert "已批准" in plans and "已完成 0 / 2 个节点" in plans
    assert '<progress max="2" value="0"' in plans
    # Tracked against the plan: no extension, no second plan; milestones to record.
    assert action_forms(html) == ["reply", "record_milestone"]
    form = re.search(r'<form[^>]*data-action="record_milestone".*?</form>', html, re.S).group(0)
    assert 'enctype="multipart/form-data"' in form
    assert (
        "1. 召开业主大会表决（2026-03-20）" in form and "2. 完成加装电梯审批（2026-04-30）" in form
    )


def test_milestones_are_recorded_with_evidence_and_files(client_for, walk):
    ticket = walk("in_progress")
    handler = client_for("handler")
    post_action(handler, ticket, "file_plan", PLAN)
    post_action(client_for("supervisor"), ticket, "decide_plan", {"decision": "approve"})
    first, second = Milestone.objects.filter(plan__ticket=ticket).order_by("seq")

    before = state(ticket)
    missing = post_action(
        handler, ticket, "record_milestone", {"milestone_id": first.pk, "evidence": " "}
    )
    assert missing.status_code == 422
    assert field_errors(missing.content.decode(), "evidence") == ["请填写内容。"]
    assert state(ticket) == before

    text_file = SimpleUploadedFile("说明.txt", b"plain text", content_type="text/plain")
    wrong_file = post_action(
        handler,
        ticket,
        "record_milestone",
        {"milestone_id": first.pk, "evidence": "表决通过。", "evidence_files": text_file},
    )
    assert wrong_file.status_code == 422
    assert len(field_errors(wrong_file.content.decode(), "evidence_files")) == 1
    assert state(ticket) == before

    photo = SimpleUploadedFile("表决结果.png", PNG, content_type="image/png")
    done = post_action(
        handler,
        ticket,
        "record_milestone",
        {
            "milestone_id": first.pk,
            "evidence": "业主大会表决通过，同意率82%。",
            "evidence_files": photo,
        },
    )
    assert done.status_code == 200
    html = done.content.decode()
    assert "已登记节点完成。" in html
    first.refresh_from_db()
    assert first.done_at is not None and first.evidence == "业主大会表决通过，同意率82%。"
    stored = Attachment.objects.get(ticket=ticket)
    assert stored.name == "表决结果.png"
    plans = section(html, "plans")
    assert f'href="/console/attachments/{stored.token}"' in plans  # under its milestone
    assert "已完成 1 / 2 个节点" in plans and "业主大会表决通过" in plans
    assert 'data-done="true"' in plans and 'data-done="false"' in plans
    # Only the undone milestone is offered now.
    form = re.search(r'<form[^>]*data-action="record_milestone".*?</form>', html, re.S).group(0)
    assert f'value="{second.pk}"' in form and f'value="{first.pk}"' not in form

    again = post_action(
        handler, ticket, "record_milestone", {"milestone_id": first.pk, "evidence": "再次"}
    )
    assert again.status_code == 409 and alert(again.content.decode()) == "该节点已登记完成。"

    post_action(
        handler, ticket, "record_milestone", {"milestone_id": second.pk, "evidence": "已获批复。"}
    )
    html = get(handler, f"/console/tickets/{ticket.pk}/").content.decode()
    assert "已完成 2 / 2 个节点" in section(html, "plans") and "已完成" in section(html, "plans")
    assert StagedPlan.objects.get(ticket=ticket).status == "completed"
    assert "record_milestone" not in action_forms(html) and action_forms(html)[0] == "reply"


def test_the_requester_sees_the_plan_and_the_milestones(client_for, walk):
    ticket = walk("in_progress")
    handler = client_for("handler")
    post_action(handler, ticket, "file_plan", PLAN)
    post_action(client_for("supervisor"), ticket, "decide_plan", {"decision": "approve"})
    first = Milestone.objects.filter(plan__ticket=ticket).order_by("seq").first()
    post_action(
        handler, ticket, "record_milestone", {"milestone_id": first.pk, "evidence": "表决通过。"}
    )
    client = Client()
    client.post("/track/", {"number": ticket.number, "code": ticket.access_code})
    html = client.get(f"/track/{ticket.number}/").content.decode()
    assert "阶段性办结计划已批准" in html and "加装电梯需业主表决" in html
    assert "阶段节点已完成" in html and "召开业主大会表决: 表决通过。" in html
    assert "报送阶段性办结计划" not in html  # the filing itself is internal


def test_a_refused_plan_lets_the_unit_file_another(client_for, walk):
    ticket = walk("in_progress")
    post_action(client_for("handler"), ticket, "file_plan", PLAN)
    post_action(
        client_for("supervisor"), ticket, "decide_plan", {"decision": "refuse", "note": "节点过粗"}
    )
    html = get(client_for("handler"), f"/console/tickets/{ticket.pk}/").content.decode()
    assert "file_plan" in action_forms(html) and "request_extension" in action_forms(html)
    plans = section(html, "plans")
    assert "未批准" in plans and "节点过粗" in plans


# --- supervision orders ----------------------------------------------------------------------


@pytest.fixture
def orders(walk, org, actors):
    """Overdue tickets with supervision orders: housing level 1 and 2, transport level 1, and
    one closed order."""
    ladder = supervision.levels()
    late = at("2026-03-25 09:00")
    housing_1 = walk("in_progress", title="住建一")
    housing_2 = walk("in_progress", title="住建二")
    transport = walk("submitted", title="交通一")
    with clock.frozen_at(DISPATCHED):
        actions.dispatch(actors["dispatcher"], transport.pk, org["transport"].pk)
    closed = walk("in_progress", title="已结束")
    made = {}
    with clock.frozen_at(late):
        for name, ticket in [
            ("h1", housing_1),
            ("h2", housing_2),
            ("t1", transport),
            ("c", closed),
        ]:
            ticket.refresh_from_db()
            made[name] = supervision.open_order(
                ticket, SupervisionOrder.Cause.OVERDUE, now=late, ladder=ladder
            )
        actions.reply(actors["handler"], closed.pk, "已处理。", outcome="resolved")
    # h2 was not answered in time: one rung up.
    later = at("2026-03-27 09:00")
    supervision.escalate(made["h2"], now=later, ladder=ladder)
    supervision.close_resolved(ticket_ids=[closed.pk], now=later)
    for order in made.values():
        order.refresh_from_db()
    made["tickets"] = {"h1": housing_1, "h2": housing_2, "t1": transport, "c": closed}
    return made


QUEUE_NOW = at("2026-03-27 10:00")


def queue(client, **params):
    html = get(client, "/console/supervision", now=QUEUE_NOW, **params).content.decode()
    return html, set(re.findall(r'data-order="(\d+)"', html))


def ids(orders, *names):
    return {str(orders[name].pk) for name in names}


def test_the_supervisor_queue_lists_open_orders_with_levels(client_for, orders):
    html, listed = queue(client_for("supervisor"))
    assert listed == ids(orders, "h1", "h2", "t1")
    row = re.search(rf'data-order="{orders["h2"].pk}".*?</tr>', html, re.S).group(0)
    assert orders["tickets"]["h2"].number in row and "住建二" in row
    assert "深圳市住房和建设局" in row and "工单超期" in row and "正式督办通知" in row
    first = re.search(rf'data-order="{orders["h1"].pk}".*?</tr>', html, re.S).group(0)
    assert "催办提醒" in first and "逾期未响应" in first  # respond-by passed on 26 March
    assert "逾期未响应" not in row  # escalated: a new respond-by
    assert "已超期" in first  # the ticket's own running deadline
    assert 'href="/console/supervision" aria-current="page"' in html
    assert 'id="supervision-count" title="进行中的督办">3<' in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"level": "2"}, ("h2",)),
        ({"level": "1"}, ("h1", "t1")),
        ({"cause": "milestone_missed"}, ()),
        ({"cause": "overdue"}, ("h1", "h2", "t1")),
        ({"state": "closed"}, ("c",)),
        ({"state": "all"}, ("h1", "h2", "t1", "c")),
    ],
)
def test_the_queue_filters(client_for, orders, params, expected):
    _html, listed = queue(client_for("supervisor"), **params)
    assert listed == ids(orders, *expected)


def test_the_queue_filters_by_unit(client_for, orders, org):
    _html, listed = queue(client_for("cityleader"), unit=str(org["transport"].pk))
    assert listed == ids(orders, "t1")


def test_a_unit_sees_its_own_orders_only(client_for, orders, org):
    html, listed = queue(client_for("handler"))
    assert listed == ids(orders, "h1", "h2")
    assert 'name="unit"' not in html
    # The unit filter is not theirs to widen.
    _html, widened = queue(client_for("handler"), unit=str(org["transport"].pk))
    assert widened == ids(orders, "h1", "h2")
    _html, transport = queue(client_for("other_handler"))
    assert transport == ids(orders, "t1")


def test_roles_without_the_queue_are_refused(client_for, orders):
    response = get(client_for("agent"), "/console/supervision", now=QUEUE_NOW)
    assert response.status_code == 403 and "您的角色无权执行此操作" in response.content.decode()
    page = get(client_for("agent"), "/console/").content.decode()
    assert 'href="/console/supervision"' not in page
    assert 'href="/console/supervision"' in get(client_for("leader"), "/console/").content.decode()
    assert Client().get("/console/supervision").status_code == 302


def test_the_queue_query_count_is_bounded(client_for, orders, walk, django_assert_max_num_queries):
    client = client_for("supervisor")
    queue(client)
    # The page: the header's counts, the dashboard (levels and one aggregate), the orders.
    with clock.frozen_at(QUEUE_NOW), django_assert_max_num_queries(17):
        client.get("/console/supervision")
    late = at("2026-03-25 09:00")
    for i in range(6):
        ticket = walk("in_progress", title=f"督办{i}")
        supervision.open_order(ticket, SupervisionOrder.Cause.OVERDUE, now=late)
    with clock.frozen_at(QUEUE_NOW), django_assert_max_num_queries(17):
        response = client.get("/console/supervision")
    assert len(re.findall(r'data-order="', response.content.decode())) == 9


def test_the_ticket_page_shows_its_orders(client_for, orders):
    ticket = orders["tickets"]["h2"]
    html = get(
        client_for("handler"), f"/console/tickets/{ticket.pk}/", now=QUEUE_NOW
    ).content.decode()
    box = section(html, "supervision-orders")
    assert "督办中" in box and "正式督办通知" in box and "工单超期" in box
    assert '<span class="badge badge-supervised">督办中</span>' in html
    timeline = section(html, "timeline")
    assert "发起督办" in timeline and "督办升级" in timeline
    closed = get(
        client_for("supervisor"), f"/console/tickets/{orders['tickets']['c'].pk}/", now=QUEUE_NOW
    ).content.decode()
    assert "已结束" in section(closed, "supervision-orders") and "督办结束" in closed


# --- the missing holiday notice ----------------------------------------------------------------


BANNER = f"尚未导入 {NEXT_YEAR} 年节假日安排，相关期限按周末推算（暂定）"


def test_admins_and_supervisors_are_warned_of_a_missing_notice(client_for):
    late_november = at(f"{LAST_KNOWN}-11-26 10:00")
    admin = get(client_for("admin"), "/console/", now=late_november).content.decode()
    assert BANNER in admin
    assert 'href="/admin/sla/holidaynotice/">导入节假日安排</a>' in admin
    supervisor = get(client_for("supervisor"), "/console/", now=late_november).content.decode()
    assert BANNER in supervisor and "/admin/sla/holidaynotice/" not in supervisor
    handler = get(client_for("handler"), "/console/", now=late_november).content.decode()
    assert BANNER not in handler
    # In March the next year is far away; with its notice loaded nobody is warned.
    assert BANNER not in get(client_for("admin"), "/console/", now=NOW).content.decode()
    HolidayNotice.objects.create(year=NEXT_YEAR, title="国务院办公厅关于部分节假日安排的通知")
    services.invalidate_calendar()
    assert BANNER not in get(client_for("admin"), "/console/", now=late_november).content.decode()


# --- the deadline preview --------------------------------------------------------------------


def preview(now=RECEIVED, **params):
    with clock.frozen_at(now):
        response = Client().get("/deadline-preview", params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_preview_shows_the_expected_deadline(org):
    html = preview(type="complaint", category_id=org["property"].pk)
    assert "预计办理期限" in html and "2026-03-23 23:59" in html and "15 个工作日" in html
    assert "暂定" not in html
    assert "2026-03-04 23:59" in preview(type="consultation")
    urgent = preview(type="complaint", urgent="on", category_id=org["property"].pk)
    assert "2026-03-03 09:00" in urgent and "24 小时" in urgent
    assert "选择诉求类型后显示预计办理期限" in preview()
    assert "选择诉求类型后显示预计办理期限" in preview(type="nonsense", category_id="x")


def test_the_preview_follows_the_category_policy(org):
    TimeLimitPolicy.objects.create(request_type="complaint", category=org["urban"], working_days=5)
    html = preview(type="complaint", category_id=org["property"].pk)  # a sub-category inherits
    assert "2026-03-09 23:59" in html and "5 个工作日" in html
    assert "2026-03-23 23:59" in preview(type="complaint", category_id=org["bus"].pk)


def test_the_preview_marks_a_provisional_deadline(org):
    html = preview(now=YEAR_END, type="complaint")
    assert expected_due(YEAR_END) in html and "暂定" in html and "节假日安排尚未导入" in html


@pytest.mark.parametrize("url", ["/", "/console/tickets/new"])
def test_the_intake_forms_update_the_preview_through_htmx(client_for, org, url):
    client = client_for("agent") if "console" in url else Client()
    html = get(client, url).content.decode()
    box = section(html, "deadline-preview")
    assert 'hx-get="/deadline-preview"' in box
    assert 'hx-include="#id_type, #id_category_id, #id_urgent"' in box
    assert "change from:#id_type" in box and "选择诉求类型后显示预计办理期限" in box
    # A refused submission shows the preview for what was chosen.
    with clock.frozen_at(RECEIVED):
        refused = client.post(url, {"type": "complaint", "category_id": org["property"].pk})
    assert refused.status_code == 422
    assert "2026-03-23 23:59" in section(refused.content.decode(), "deadline-preview")


def test_the_portal_time_limits_follow_the_default_policies(org):
    assert "15个工作日内办结" in Client().get("/").content.decode()
    TimeLimitPolicy.objects.filter(request_type__in=["complaint", "report"], category=None).update(
        working_days=20
    )
    html = Client().get("/").content.decode()
    table = re.search(r'<table class="limits">.*?</table>', html, re.S).group(0)
    assert "20个工作日内办结" in table and "15个工作日内办结" not in table
    assert "24小时内处置" in table


def test_tickets_keep_their_limit_when_the_policy_changes(walk, client_for):
    ticket = walk("in_progress")
    TimeLimitPolicy.objects.filter(request_type="complaint", category=None).update(working_days=3)
    html = get(client_for("handler"), f"/console/tickets/{ticket.pk}/").content.decode()
    assert "2026-03-24 23:59" in section(html, "clock-unit")
    assert Ticket.objects.get(pk=ticket.pk).time_limit_days == 15
