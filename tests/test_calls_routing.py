"""Virtual-number routing as pure code: numbers, the routing table, the AXB rule, when a binding
ends, and the SIP messages of the redirect server. No database."""

from __future__ import annotations

import datetime as dt

import pytest

from minyi.calls.numbers import normalise_number
from minyi.calls.routing import BindingView, Route, conflicts, end_reason, route
from minyi.calls.sip import (
    build_response,
    header_param,
    header_uri,
    parse_request,
    split_commas,
    stamp_via,
    transaction_key,
    uri_user,
    well_formed,
)
from minyi.privacy.policy import mask_phone

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=20)
EARLIER = NOW - dt.timedelta(minutes=1)

X, Y = "075588880001", "075588880002"
A, B = "13800138000", "13912345678"  # requester, handler
A2, B2 = "13700000002", "13600000002"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13800138000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("0755-83212345", "075583212345"),
        ("+86 755 8321 2345", "075583212345"),
        ("+8675583212345", "075583212345"),
        ("+1 415 555 0100", "0014155550100"),
        ("", ""),
        ("anonymous", ""),
    ],
)
def test_numbers_are_compared_in_national_form(text, expected):
    assert normalise_number(text) == expected


@pytest.mark.parametrize(
    ("number", "masked"), [("13800138000", "138****8000"), ("075583212345", "075*****2345"), ("12345", "*****")]
)
def test_masks(number, masked):
    assert mask_phone(number) == masked


def view(pk, number, a, b, expires=LATER, active=True):
    return BindingView(pk, number, a, b, expires, active)


ONE = [view(1, X, A, B)]
SHARED = [view(1, X, A, B), view(2, X, A2, B2)]

ROUTES = [
    # (x, caller, bindings, expected status, target, binding, direction)
    (X, B, ONE, 302, A, 1, "b_to_a"),  # the handler reaches the requester
    (X, A, ONE, 302, B, 1, "a_to_b"),  # the requester calls back
    (X, "+86 139 1234 5678", ONE, 302, A, 1, "b_to_a"),  # the switch's international form
    ("+86 755 8888 0001", B, ONE, 302, A, 1, "b_to_a"),
    (X, "13000000000", ONE, 403, "", None, ""),  # a stranger calls X
    (X, "", ONE, 403, "", None, ""),  # caller withheld
    (Y, B, ONE, 404, "", None, ""),  # X never bound
    (X, B, [view(1, X, A, B, expires=NOW)], 404, "", None, ""),  # expired at this very moment
    (X, B, [view(1, X, A, B, expires=EARLIER)], 404, "", None, ""),
    (X, B, [view(1, X, A, B, active=False)], 404, "", None, ""),  # ended
    (X, "13000000000", [view(1, X, A, B, active=False)], 404, "", None, ""),  # unbound before forbidden
    ("", B, ONE, 404, "", None, ""),
    # One X serves two bindings: each caller reaches their own counterpart.
    (X, B2, SHARED, 302, A2, 2, "b_to_a"),
    (X, A2, SHARED, 302, B2, 2, "a_to_b"),
    (X, B, SHARED, 302, A, 1, "b_to_a"),
    # A's other binding on another X does not leak onto this one.
    (Y, A, [view(1, X, A, B), view(2, Y, A2, B2)], 403, "", None, ""),
    # Should rows ever break the AXB rule, the newest binding wins.
    (X, B, [view(1, X, A, B), view(2, X, A2, B)], 302, A2, 2, "b_to_a"),
]


@pytest.mark.parametrize(("x", "caller", "bindings", "status", "target", "binding", "direction"), ROUTES)
def test_route(x, caller, bindings, status, target, binding, direction):
    assert route(x, caller, NOW, bindings) == Route(status, target, binding, direction)


def test_route_is_a_status_and_target_first():
    status, target, *_rest = route(X, B, NOW, ONE)
    assert (status, target) == (302, A)


@pytest.mark.parametrize(
    ("a", "b", "parties", "conflict"),
    [
        (A, B, [], False),
        (A, B, [(A2, B2)], False),  # disjoint: X may serve both
        (A, B, [(A, B2)], True),  # the same requester twice on X
        (A, B, [(A2, B)], True),  # the same handler twice on X
        (A, B, [(B, A2)], True),  # the handler is a requester on X (a staff member's own ticket)
        (A, B, [(B2, A)], True),  # the requester is a handler on X
    ],
)
def test_the_axb_rule(a, b, parties, conflict):
    assert conflicts(a, b, parties) is conflict


@pytest.mark.parametrize(
    ("status", "lead", "unit", "expires", "reason"),
    [
        ("in_progress", 7, 7, LATER, None),
        ("replied", 7, 7, LATER, None),  # replied tickets may still be called about until closed
        ("in_progress", 7, 7, NOW, "expired"),
        ("closed", 7, 7, LATER, "ticket_closed"),
        ("closed", 7, 7, EARLIER, "ticket_closed"),  # the ticket's reason comes first
        ("merged", 7, 7, LATER, "ticket_merged"),
        ("dispatched", 8, 7, LATER, "unit_changed"),  # re-dispatched elsewhere
        ("returned", None, 7, LATER, "unit_changed"),
    ],
)
def test_end_reason(status, lead, unit, expires, reason):
    assert end_reason(status=status, lead_unit_id=lead, unit_id=unit, expires_at=expires, now=NOW) == reason


# --- SIP messages --------------------------------------------------------------------------------

INVITE = (
    "INVITE sip:075588880001@127.0.0.1:5070;user=phone SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.1.2.3:5061;branch=z9hG4bK-1-0;rport\r\n"
    "Via: SIP/2.0/UDP 10.9.9.9:5060;branch=z9hG4bK-upstream\r\n"
    "Max-Forwards: 70\r\n"
    'From: "Handler" <sip:13912345678@10.1.2.3:5061>;tag=abc\r\n'
    "To: <sip:075588880001@127.0.0.1:5070>\r\n"
    "Call-ID: 1-2345@10.1.2.3\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:13912345678@10.1.2.3:5061>\r\n"
    "Subject: a folded\r\n"
    " header\r\n"
    "l: 0\r\n"
    "\r\n"
)


def test_parse_an_invite():
    request = parse_request(INVITE.encode())
    assert request is not None
    assert request.method == "INVITE"
    assert uri_user(request.uri) == ("sip", "075588880001")
    assert uri_user(header_uri(request.get("from"))) == ("sip", "13912345678")
    assert header_param(request.get("from"), "tag") == "abc"
    assert header_param(request.get("to"), "tag") is None
    assert request.get("subject") == "a folded header"
    assert request.get("content-length") == "0"  # the compact form
    assert len(request.all("via")) == 2
    assert well_formed(request)
    assert transaction_key(request) == ("z9hG4bK-1-0", "1-2345@10.1.2.3", "1")


@pytest.mark.parametrize(
    "data",
    [b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n", b"\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n", b"\x00\x01garbage", b""],
)
def test_not_requests(data):
    assert parse_request(data) is None


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sip:13800138000@gw.example.org", ("sip", "13800138000")),
        ("sips:+8613800138000@gw.example.org:5061;transport=tls", ("sips", "+8613800138000")),
        ("sip:13800138000;phone-context=+86@gw", ("sip", "13800138000")),
        ("sip:user:secret@host", ("sip", "user")),
        ("tel:+86-138-0013-8000;phone-context=cn", ("tel", "+86-138-0013-8000")),
        ("sip:%2B8613800138000@host", ("sip", "+8613800138000")),
        ("sip:host.example.org", ("sip", "")),
        ("http://example.org/", ("http", "")),
        ("nonsense", ("", "")),
    ],
)
def test_uri_user(uri, expected):
    assert uri_user(uri) == expected


def test_split_commas_keeps_quoted_and_bracketed_commas():
    assert split_commas('SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b') == ["SIP/2.0/UDP a;branch=z9hG4bK1", "SIP/2.0/UDP b"]
    assert split_commas('"Doe, J" <sip:1@h>, <sip:2@h;x=a,b>') == ['"Doe, J" <sip:1@h>', "<sip:2@h;x=a,b>"]


@pytest.mark.parametrize(
    ("via", "source", "stamped"),
    [
        ("SIP/2.0/UDP 10.1.2.3:5061;branch=z9hG4bK1", ("10.1.2.3", 5061), "SIP/2.0/UDP 10.1.2.3:5061;branch=z9hG4bK1"),
        ("SIP/2.0/UDP 10.1.2.3:5061;branch=z9hG4bK1", ("192.0.2.7", 5061),
         "SIP/2.0/UDP 10.1.2.3:5061;branch=z9hG4bK1;received=192.0.2.7"),
        ("SIP/2.0/UDP 10.1.2.3:5061;branch=z9hG4bK1;rport", ("10.1.2.3", 40000),
         "SIP/2.0/UDP 10.1.2.3:5061;branch=z9hG4bK1;rport=40000;received=10.1.2.3"),
        ("SIP/2.0/UDP switch.example.org;branch=z9hG4bK1", ("10.1.2.3", 5060),
         "SIP/2.0/UDP switch.example.org;branch=z9hG4bK1;received=10.1.2.3"),
        ("SIP/2.0/UDP [::1]:5061;branch=z9hG4bK1", ("::1", 5061), "SIP/2.0/UDP [::1]:5061;branch=z9hG4bK1"),
    ],
)
def test_stamp_via(via, source, stamped):
    assert stamp_via(via, *source) == stamped


def test_a_redirect_echoes_the_request():
    request = parse_request(INVITE.encode())
    assert request is not None
    raw = build_response(
        request, 302, to_tag="t1", source=("10.1.2.3", 5061),
        headers=[("Contact", "<sip:13800138000@gw.example.org>")],
    ).decode()
    head, _sep, body = raw.partition("\r\n\r\n")
    assert body == ""
    lines = head.split("\r\n")
    assert lines[0] == "SIP/2.0 302 Moved Temporarily"
    assert lines[1:3] == [
        "Via: SIP/2.0/UDP 10.1.2.3:5061;branch=z9hG4bK-1-0;rport=5061;received=10.1.2.3",
        "Via: SIP/2.0/UDP 10.9.9.9:5060;branch=z9hG4bK-upstream",
    ]
    assert 'From: "Handler" <sip:13912345678@10.1.2.3:5061>;tag=abc' in lines
    assert "To: <sip:075588880001@127.0.0.1:5070>;tag=t1" in lines
    assert "Call-ID: 1-2345@10.1.2.3" in lines
    assert "CSeq: 1 INVITE" in lines
    assert "Contact: <sip:13800138000@gw.example.org>" in lines
    assert lines[-1] == "Content-Length: 0"


def test_a_to_tag_already_there_is_kept():
    request = parse_request(INVITE.replace("To: <sip:075588880001@127.0.0.1:5070>", "To: <sip:x@h>;tag=old").encode())
    assert request is not None
    raw = build_response(request, 404, to_tag="new", source=("10.1.2.3", 5061)).decode()
    assert "To: <sip:x@h>;tag=old\r\n" in raw


@pytest.mark.parametrize(
    "broken",
    [
        INVITE.replace("CSeq: 1 INVITE", "CSeq: 1 OPTIONS"),
        INVITE.replace("CSeq: 1 INVITE", "CSeq: one INVITE"),
        INVITE.replace("Call-ID: 1-2345@10.1.2.3\r\n", ""),
        INVITE.replace("To: <sip:075588880001@127.0.0.1:5070>\r\n", ""),
    ],
)
def test_malformed_requests(broken):
    request = parse_request(broken.encode())
    assert request is not None and not well_formed(request)
