"""Privacy on the console's pages (issue 6, ADR 10): the role × field matrix through the ticket
page, numbers in free text masked on every page that prints it, revealing with a reason (granted,
refused, always audited), the audit page, and calling the requester through a virtual number."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

import pytest
from django.test import Client

from minyi.calls import actions as calls_actions
from minyi.calls.models import Binding, CallRecord, HandlerLine, VirtualNumber
from minyi.privacy.models import Reveal
from minyi.supervision import actions as supervision_actions
from minyi.tickets import actions
from minyi.tickets.models import Ticket
from test_privacy import (
    ADDRESS,
    CARD,
    EMAIL,
    ID_NUMBER,
    MASKED_TEXT,
    MATRIX,
    NAME,
    PHONE,
    REVEALABLE,
    TEXT,
)

FIELDS = ("name", "phone", "email", "id_number", "address")
TITLE_PHONE = "13698765432"
TITLE = f"电梯故障，请回电{TITLE_PHONE}"
MASKED_TITLE = "电梯故障，请回电136****5432"
INTAKE = ("agent", "dispatcher")
REASON = "诉求人来电核实身份"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def personal(new_ticket):
    """A dispatched ticket (housing bureau) with every personal field and numbers in its text."""
    return new_ticket(
        "dispatched", requester_email=EMAIL, requester_id_number=ID_NUMBER, text=TEXT, title=TITLE
    )


def page(client: Client, ticket) -> str:
    response = client.get(f"/console/tickets/{ticket.pk}/")
    assert response.status_code == 200, response.content
    return response.content.decode()


def shown(html: str, field: str) -> str:
    found = re.search(rf'id="requester-{field}"[^>]*>([^<]*)<', html)
    assert found, f"no #requester-{field}"
    return html_lib.unescape(found.group(1)).strip()


def reveal_forms(html: str) -> list[str]:
    return re.findall(r'data-reveal-form="([a-z_]+)"', html)


def field_errors(html: str, field: str) -> list[str]:
    return re.findall(rf'<p class="error" role="alert" data-field="{field}">([^<]+)</p>', html)


# --- the matrix through the ticket page -----------------------------------------------------------


@pytest.mark.parametrize("who", list(MATRIX))
def test_each_role_sees_each_field_on_the_ticket_page_as_the_matrix_says(client_for, personal, who):
    html = page(client_for(who), personal)
    expected = dict(zip(FIELDS, MATRIX[who], strict=True))
    assert {field: shown(html, field) for field in FIELDS} == {
        field: value or "—" for field, value in expected.items()
    }
    assert reveal_forms(html) == REVEALABLE[who]
    text = html_lib.unescape(re.search(r'id="ticket-text">([^<]*)<', html).group(1))
    title = html_lib.unescape(re.search(r'id="ticket-title">([^<]*)<', html).group(1))
    if who in INTAKE:
        assert (text, title) == (TEXT, TITLE)
    else:
        assert (text, title) == (MASKED_TEXT, MASKED_TITLE)
        # Nothing the role may not see in clear is anywhere in the page.
        secrets = {PHONE, EMAIL, ID_NUMBER, CARD, "13912345678", TITLE_PHONE}
        if expected["name"] != NAME:
            secrets.add(NAME)
        for secret in secrets:
            assert secret not in html, (who, secret)
    assert ADDRESS in html  # every role sees the address (the matrix)


def test_an_anonymous_requester_shows_nothing_and_offers_no_reveal(client_for, new_ticket):
    ticket = new_ticket("dispatched", anonymous=True, requester_name="", contact_allowed=True)
    for who in MATRIX:
        html = page(client_for(who), ticket)
        assert (shown(html, "phone"), shown(html, "email"), shown(html, "id_number")) == ("—", "—", "—")
        assert reveal_forms(html) == []
        assert PHONE not in html


def test_numbers_in_timeline_notes_are_masked_outside_intake(client_for, personal, actors):
    actions.sign(actors["handler"], personal.pk, note="已与诉求人13912345678确认上门时间")
    handler = page(client_for("handler"), personal)
    assert "已与诉求人139****5678确认上门时间" in handler and "13912345678" not in handler
    assert "已与诉求人13912345678确认上门时间" in page(client_for("dispatcher"), personal)


def test_titles_are_masked_on_every_list_outside_intake(client_for, personal, actors):
    """Worklist, notifications, supervision orders and the review queue print titles."""
    supervision_actions.open_manual(actors["supervisor"], personal.pk, reason=f"诉求人{TITLE_PHONE}多次来电")
    pages = {
        "handler": ["/console/?tab=all", "/console/notifications", "/console/supervision"],
        "supervisor": ["/console/?tab=all", "/console/supervision"],
        "cityleader": ["/console/?tab=all", "/console/supervision"],
    }
    for who, urls in pages.items():
        client = client_for(who)
        for url in urls:
            html = client.get(url).content.decode()
            assert TITLE_PHONE not in html, (who, url)
    worklist = client_for("handler").get("/console/?tab=all").content.decode()
    assert MASKED_TITLE in worklist
    supervision = client_for("handler").get("/console/supervision").content.decode()
    assert "诉求人136****5432多次来电" in supervision
    assert TITLE in client_for("dispatcher").get("/console/?tab=all").content.decode()


def test_masked_readers_cannot_probe_title_numbers_by_searching(client_for, personal):
    """A handler searching the title's phone number finds nothing; the ticket number still works;
    an agent, who reads titles in clear, finds it by the number in its title."""

    def listed(who: str, q: str) -> bool:
        html = client_for(who).get("/console/", {"tab": "all", "q": q}).content.decode()
        return f'data-number="{personal.number}"' in html

    assert not listed("handler", TITLE_PHONE)
    assert not listed("handler", "136-9876")
    assert listed("handler", "电梯故障")
    assert listed("handler", personal.number)
    assert listed("agent", TITLE_PHONE)


# --- revealing through the page -------------------------------------------------------------------


def post_reveal(client: Client, ticket, field: str, reason: str, htmx: bool = True):
    extra = HTMX if htmx else {}
    return client.post(f"/console/tickets/{ticket.pk}/reveal", {"field": field, "reason": reason}, **extra)


def test_a_supervisor_reveals_a_phone_with_a_reason(client_for, personal, users):
    response = post_reveal(client_for("supervisor"), personal, "phone", REASON)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert shown(body, "phone") == PHONE and "data-revealed" in body
    assert body.lstrip().startswith('<div class="contact-field revealed" id="contact-phone"')
    row = Reveal.objects.get()
    assert (row.ticket_id, row.field, row.user, row.role, row.reason, row.granted, row.refusal) == (
        personal.pk, "phone", users["supervisor"], "supervisor", REASON, True, ""
    )
    # Shown once: the page itself stays masked.
    assert shown(page(client_for("supervisor"), personal), "phone") == "138****8000"


def test_a_reveal_without_javascript_shows_the_whole_ticket_page(client_for, personal):
    response = post_reveal(client_for("supervisor"), personal, "id_number", REASON, htmx=False)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert shown(body, "id_number") == ID_NUMBER
    assert shown(body, "phone") == "138****8000"
    assert 'id="ticket-panel"' in body
    assert Reveal.objects.get().granted is True


@pytest.mark.parametrize(
    ("who", "field", "reason", "status", "code", "error_on"),
    [
        ("supervisor", "phone", "", 422, "reason_required", "reason"),
        ("supervisor", "email", "  看 ", 422, "reason_required", "reason"),
        ("handler", "phone", "需要联系诉求人", 403, "role_not_allowed", None),
        ("leader", "id_number", "需要联系诉求人", 403, "role_not_allowed", None),
        ("cityleader", "phone", "需要联系诉求人", 403, "role_not_allowed", None),
        ("admin", "phone", "需要联系诉求人", 403, "role_not_allowed", None),
        ("agent", "phone", "需要联系诉求人", 403, "role_not_allowed", None),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_refused_reveals_show_nothing_and_are_audited(
    client_for, personal, unchanged, who, field, reason, status, code, error_on, htmx
):
    with unchanged(personal):
        response = post_reveal(client_for(who), personal, field, reason, htmx=htmx)
    assert response.status_code == status
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    for secret in (PHONE, EMAIL, ID_NUMBER):
        if who not in INTAKE:
            assert secret not in body
    assert "data-revealed" not in body
    if error_on:
        assert len(field_errors(body, error_on)) == 1
    else:
        assert re.search(r'<div class="alert alert-error" role="alert"><p>[^<]+</p></div>', body)
    row = Reveal.objects.get()
    assert (row.field, row.granted, row.refusal, row.reason) == (field, False, code, reason.strip())


def test_a_reveal_of_an_unknown_field_or_an_anonymous_requester_is_refused(client_for, personal, new_ticket):
    response = post_reveal(client_for("supervisor"), personal, "password", REASON)
    assert response.status_code == 422 and 'data-code="invalid_field"' in response.content.decode()
    anonymous = new_ticket("dispatched", anonymous=True, requester_name="", contact_allowed=True)
    refused = post_reveal(client_for("supervisor"), anonymous, "phone", REASON)
    assert refused.status_code == 409 and PHONE not in refused.content.decode()
    assert list(Reveal.objects.order_by("id").values_list("field", "granted", "refusal")) == [
        ("password", False, "invalid_field"), ("phone", False, "anonymous"),
    ]


def test_another_units_ticket_is_not_found_and_a_reveal_needs_a_post(client_for, personal):
    response = post_reveal(client_for("other_handler"), personal, "phone", REASON)
    assert response.status_code == 404 and PHONE not in response.content.decode()
    assert client_for("supervisor").get(f"/console/tickets/{personal.pk}/reveal").status_code == 405
    assert Reveal.objects.count() == 0
    anonymous = Client().post(f"/console/tickets/{personal.pk}/reveal", {"field": "phone", "reason": REASON})
    assert anonymous.status_code == 302 and Reveal.objects.count() == 0


# --- the audit page --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "supervisor"])
def test_the_audit_lists_every_attempt_for_admins_and_supervisors(client_for, personal, new_ticket, who):
    supervisor = client_for("supervisor")
    post_reveal(supervisor, personal, "phone", REASON)
    post_reveal(supervisor, personal, "email", "")
    post_reveal(client_for("handler"), personal, "phone", "需要联系诉求人")
    other = new_ticket("dispatched", requester_email=EMAIL)
    post_reveal(supervisor, other, "email", REASON)
    client = client_for(who)
    html = client.get("/console/privacy/reveals").content.decode()
    rows = re.findall(r'<tr data-reveal="\d+" data-number="([^"]+)" data-field="([a-z_]+)" data-granted="(\w+)"', html)
    assert rows == [
        (other.number, "email", "true"),
        (personal.number, "phone", "false"),
        (personal.number, "email", "false"),
        (personal.number, "phone", "true"),
    ]
    assert f'href="/console/tickets/{personal.pk}/"' in html
    assert REASON in html and "需要联系诉求人" in html
    assert re.findall(r"<code[^>]*data-refusal>(\w+)</code>", html) == ["role_not_allowed", "reason_required"]
    for secret in (PHONE, EMAIL):
        assert secret not in html
    filtered = client.get("/console/privacy/reveals", {"ticket": other.number}).content.decode()
    assert re.findall(r'data-number="([^"]+)" data-field', filtered) == [other.number]
    refused = client.get("/console/privacy/reveals", {"granted": "no"}).content.decode()
    assert re.findall(r'data-granted="(\w+)"', refused) == ["false", "false"]
    assert 'id="nav-reveals"' in html


@pytest.mark.parametrize("who", ["agent", "dispatcher", "handler", "leader", "cityleader"])
def test_the_audit_is_refused_to_other_roles(client_for, personal, who):
    post_reveal(client_for("supervisor"), personal, "phone", REASON)
    client = client_for(who)
    response = client.get("/console/privacy/reveals")
    assert response.status_code == 403
    assert personal.number not in response.content.decode()
    assert 'id="nav-reveals"' not in client.get("/console/").content.decode()


# --- calls through a virtual number ----------------------------------------------------------------

A, B, LEADER_LINE = PHONE, "13912345678", "13912340002"
POOL = ["075588880001", "075588880002"]


@pytest.fixture
def lines(users):
    for number in POOL:
        VirtualNumber.objects.create(number=number)
    HandlerLine.objects.create(user=users["handler"], phone=B)
    HandlerLine.objects.create(user=users["leader"], phone=LEADER_LINE)


def call_card(html: str) -> str | None:
    found = re.search(r'<div class="card" id="calls">.*?\n      </div>', html, re.S)
    return found.group(0) if found else None


@pytest.mark.parametrize("who", ["handler", "leader"])
def test_the_lead_units_staff_call_through_a_virtual_number(client_for, new_ticket, lines, travel, who):
    ticket = new_ticket("in_progress")
    travel("2026-12-01T10:00")
    client = client_for(who)
    before = call_card(page(client, ticket))
    assert before is not None and 'id="call-button"' in before and 'id="virtual-number"' not in before
    response = client.post(f"/console/tickets/{ticket.pk}/call", **HTMX)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert re.search(r'id="virtual-number">(\d+)<', body).group(1) == POOL[0]
    assert re.search(r'id="binding-expires">([^<]+)<', body).group(1) == "2026-12-01 10:30"
    for secret in (A, B, LEADER_LINE):
        assert secret not in body
    binding = Binding.objects.get()
    assert (binding.ticket_id, binding.handler.username, binding.active) == (ticket.pk, who, True)
    # The page shows the live binding; pressing again keeps the same number.
    again = page(client, ticket)
    assert re.search(r'id="virtual-number">(\d+)<', again).group(1) == POOL[0]
    assert client.post(f"/console/tickets/{ticket.pk}/call", **HTMX).status_code == 200
    assert Binding.objects.count() == 1
    for secret in (A, B, LEADER_LINE):
        assert secret not in again


def test_without_javascript_the_call_button_redirects_to_the_ticket(client_for, new_ticket, lines):
    ticket = new_ticket("in_progress")
    client = client_for("handler")
    response = client.post(f"/console/tickets/{ticket.pk}/call")
    assert response.status_code == 302 and response["Location"] == f"/console/tickets/{ticket.pk}/"
    assert re.search(r'id="virtual-number">(\d+)<', page(client, ticket)).group(1) == POOL[0]


@pytest.mark.parametrize("who", ["agent", "dispatcher", "supervisor", "cityleader", "admin"])
def test_platform_roles_get_no_call_button(client_for, new_ticket, lines, who, unchanged):
    ticket = new_ticket("in_progress")
    assert call_card(page(client_for(who), ticket)) is None
    with unchanged(ticket):
        response = client_for(who).post(f"/console/tickets/{ticket.pk}/call", **HTMX)
    assert response.status_code == 403 and Binding.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "code"),
    [("no_consent", "contact_not_allowed"), ("no_line", "no_handler_phone")],
)
def test_where_contact_is_not_possible_the_page_says_why(client_for, new_ticket, lines, users, change, code):
    ticket = new_ticket("in_progress")
    if change == "no_consent":
        Ticket.objects.filter(pk=ticket.pk).update(contact_allowed=False)
    else:
        HandlerLine.objects.filter(user=users["handler"]).delete()
    card = call_card(page(client_for("handler"), ticket))
    assert card is not None and 'id="call-button"' not in card
    assert f'id="call-refused" data-code="{code}"' in card
    response = client_for("handler").post(f"/console/tickets/{ticket.pk}/call", **HTMX)
    assert response.status_code in (403, 409) and 'id="call-alert"' in response.content.decode()
    assert Binding.objects.count() == 0


def test_no_call_section_once_the_ticket_left_the_unit(client_for, new_ticket, lines):
    for status in ("submitted", "replied", "closed"):
        assert call_card(page(client_for("dispatcher" if status == "submitted" else "handler"), new_ticket(status))) is None


def test_the_calls_of_a_ticket_are_listed_without_numbers(client_for, new_ticket, lines, actors, travel):
    ticket = new_ticket("in_progress")
    travel("2026-12-01T10:00")
    calls_actions.bind(actors["handler"], ticket.pk)
    start = dt.datetime.fromisoformat("2026-12-01T10:05:00+08:00")
    calls_actions.record_call(calls_actions.CallReport(
        call_id="c-1", number=POOL[0], caller=B, started_at=start,
        answered_at=start + dt.timedelta(seconds=10), ended_at=start + dt.timedelta(seconds=130),
    ))
    calls_actions.record_call(calls_actions.CallReport(
        call_id="c-2", number=POOL[0], caller=A, started_at=start + dt.timedelta(minutes=5),
        ended_at=start + dt.timedelta(minutes=5, seconds=20), duration_seconds=0, result="no_answer",
    ))
    assert CallRecord.objects.count() == 2
    for who in ("handler", "supervisor", "dispatcher", "cityleader"):
        card = call_card(page(client_for(who), ticket))
        assert card is not None, who
        rows = re.findall(r'<tr data-call="\d+" data-caller="(\w+)">', card)
        assert rows == ["handler", "requester"]
        assert "2026-12-01 10:05:00" in card and "2026-12-01 10:07:10" in card
        assert re.findall(r'data-col="duration">([^<]+)<', card) == ["2 分 00 秒", "0 秒"]
        # The handler sees the number of their own live binding; nobody sees A or B.
        for secret in (A, B) if who == "handler" else (A, B, POOL[0]):
            assert secret not in card, (who, secret)


def test_the_admin_has_a_link_to_the_number_pool(client_for):
    html = client_for("admin").get("/console/").content.decode()
    assert re.search(r'href="/admin/calls/virtualnumber/" id="nav-numbers"', html)
    for who in ("supervisor", "handler", "dispatcher"):
        assert 'id="nav-numbers"' not in client_for(who).get("/console/").content.decode()
