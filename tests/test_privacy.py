"""Privacy by design (issue 6): encryption at rest with key ids and rotation, the keyed phone
hash, masking by role (a role × field matrix), numbers inside text, audited reveals, the
requester's way back in (lockout), and no personal data in any response to a unit or in logs."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection

from conftest import assert_error, submission_data
from minyi.privacy import crypto, policy
from minyi.privacy.models import Reveal
from minyi.privacy.rotation import key_ids, rotate
from minyi.tickets.codes import new_access_code
from minyi.tickets.models import Ticket

NAME, PHONE, EMAIL, ID_NUMBER, ADDRESS = "张三", "13800138000", "zhang.san@example.com", "440304199001011233", "莲花北村12栋"
CARD = "6222021234567890128"  # passes the Luhn check
TEXT = f"我的电话13912345678，身份证{ID_NUMBER}，工资卡{CARD}，小区电梯经常故障。"


def test_the_example_numbers_are_valid():
    assert policy.id_number_valid(ID_NUMBER)
    assert policy.luhn_valid(CARD)


@pytest.fixture
def personal(new_ticket):
    ticket = new_ticket("dispatched", requester_email=EMAIL, requester_id_number=ID_NUMBER, text=TEXT)
    return ticket


def raw_row(ticket) -> dict[str, str]:
    columns = ["requester_name", "requester_phone", "requester_email", "requester_id_number", "address"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM tickets_ticket WHERE id = %s", [ticket.pk])  # noqa: S608
        return dict(zip(columns, cursor.fetchone(), strict=True))


# --- encryption at rest ------------------------------------------------------------------------


def test_personal_fields_are_sealed_at_rest_and_read_back(personal):
    raw = raw_row(personal)
    for value in raw.values():
        assert value.startswith("v1$t2$"), value
    joined = json.dumps(raw, ensure_ascii=False)
    for secret in (NAME, PHONE, EMAIL, ID_NUMBER, ADDRESS):
        assert secret not in joined
    ticket = Ticket.objects.get(pk=personal.pk)
    assert (ticket.requester_name, ticket.requester_phone, ticket.requester_email, ticket.requester_id_number,
            ticket.address) == (NAME, PHONE, EMAIL, ID_NUMBER, ADDRESS)


def test_a_value_does_not_open_in_another_column():
    sealed = crypto.seal(PHONE, "tickets.ticket.requester_phone")
    assert crypto.open_sealed(sealed, "tickets.ticket.requester_phone") == PHONE
    with pytest.raises(crypto.UndecryptableValue):
        crypto.open_sealed(sealed, "tickets.ticket.requester_name")
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(crypto.UndecryptableValue):
        crypto.open_sealed(tampered, "tickets.ticket.requester_phone")


def test_the_same_phone_seals_differently_but_hashes_alike():
    assert crypto.seal(PHONE, "f") != crypto.seal(PHONE, "f")
    assert crypto.phone_hash("138 0013 8000") == crypto.phone_hash("+86 13800138000") == crypto.phone_hash(PHONE)
    assert crypto.phone_hash("13900139000") != crypto.phone_hash(PHONE)
    assert PHONE not in crypto.phone_hash(PHONE)


def test_staff_find_a_callers_earlier_tickets_by_phone(api, new_ticket):
    first = new_ticket("closed")
    second = new_ticket()
    new_ticket(requester_phone="13900139000")
    found = api("get", "/api/v1/tickets", "agent", {"phone": "138-0013-8000"}).json()
    assert sorted(r["id"] for r in found["results"]) == sorted([first.pk, second.pk])
    assert_error(api("get", "/api/v1/tickets", "handler", {"phone": PHONE}), 403, "role_not_allowed")
    assert_error(api("get", "/api/v1/tickets", "agent", {"phone": "abc"}), 422, "invalid_phone", "phone")


def test_key_rotation_keeps_every_value_readable(settings, new_ticket):
    t1_only = "t1:" + settings.MINYI_DATA_KEYS.split(",t1:")[1]
    settings.MINYI_DATA_KEYS = t1_only
    old = new_ticket(requester_email=EMAIL, requester_id_number=ID_NUMBER)
    assert raw_row(old)["requester_phone"].startswith("v1$t1$")
    # A new first key: old values still open; new ones seal under it.
    settings.MINYI_DATA_KEYS = f"t3:{crypto.new_key()},{t1_only}"
    fresh = new_ticket(requester_phone="13900139000")
    assert raw_row(fresh)["requester_phone"].startswith("v1$t3$")
    assert Ticket.objects.get(pk=old.pk).requester_phone == PHONE
    assert key_ids()["t1"] > 0
    rotate()
    assert set(key_ids()) == {"t3"}
    assert rotate()["tickets.Ticket"] == 2  # idempotent, but rehashes every ticket
    # The old key can go.
    settings.MINYI_DATA_KEYS = settings.MINYI_DATA_KEYS.split(",t1:")[0]
    ticket = Ticket.objects.get(pk=old.pk)
    assert (ticket.requester_phone, ticket.requester_email, ticket.requester_id_number) == (PHONE, EMAIL, ID_NUMBER)


def test_rotate_keys_command(settings, new_ticket):
    from io import StringIO

    from django.core.management import call_command

    new_ticket()
    out = StringIO()
    call_command("rotate-keys", stdout=out)
    assert "current key: t2" in out.getvalue()
    key = StringIO()
    call_command("rotate-keys", "--new-key", stdout=key)
    assert len(__import__("base64").b64decode(key.getvalue().strip())) == 32


def test_an_encrypted_field_cannot_be_searched_in_sql(personal):
    from django.core.exceptions import FieldError

    with pytest.raises(FieldError):
        list(Ticket.objects.filter(requester_phone=PHONE))
    with pytest.raises(FieldError):
        list(Ticket.objects.filter(requester_name__icontains="张"))
    assert Ticket.objects.filter(requester_email="").count() == 0


# --- masking by role: the matrix --------------------------------------------------------------

M_PHONE, M_NAME, M_EMAIL, M_ID = "138****8000", "张*", "z***@example.com", "440304********1233"
#: role -> what it sees of name, phone, e-mail, ID number, address.
MATRIX = {
    "agent": (NAME, PHONE, EMAIL, M_ID, ADDRESS),
    "dispatcher": (NAME, PHONE, EMAIL, M_ID, ADDRESS),
    "supervisor": (NAME, M_PHONE, M_EMAIL, M_ID, ADDRESS),
    "handler": (M_NAME, M_PHONE, "", "", ADDRESS),
    "leader": (M_NAME, M_PHONE, "", "", ADDRESS),
    "cityleader": (M_NAME, "", "", "", ADDRESS),
    "admin": (M_NAME, M_PHONE, M_EMAIL, M_ID, ADDRESS),
}
REVEALABLE = {
    "agent": ["id_number"], "dispatcher": ["id_number"], "supervisor": ["phone", "email", "id_number"],
    "handler": [], "leader": [], "cityleader": [], "admin": [],
}
MASKED_TEXT = "我的电话139****5678，身份证440304********1233，工资卡6222***********0128，小区电梯经常故障。"


@pytest.mark.parametrize("who", list(MATRIX))
def test_each_role_sees_each_field_as_the_matrix_says(api, personal, who):
    body = api("get", f"/api/v1/tickets/{personal.pk}", who).json()
    requester = body["requester"]
    seen = (requester["name"], requester["phone"], requester["email"], requester["id_number"], requester["address"])
    assert seen == MATRIX[who]
    assert requester["revealable"] == REVEALABLE[who]
    assert body["text"] == (TEXT if who in ("agent", "dispatcher") else MASKED_TEXT)


def test_nobody_sees_an_anonymous_requester(api, new_ticket):
    ticket = new_ticket("dispatched", anonymous=True, requester_name="", contact_allowed=True)
    for who in MATRIX:
        requester = api("get", f"/api/v1/tickets/{ticket.pk}", who).json()["requester"]
        assert (requester["phone"], requester["email"], requester["id_number"], requester["revealable"]) == ("", "", "", [])
    assert Ticket.objects.get(pk=ticket.pk).requester_phone == PHONE  # kept, sealed, to call back


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话13800138000", "电话138****8000"),
        ("电话 138-0013-8000 打不通", "电话 138****8000 打不通"),
        (f"身份证{ID_NUMBER}", "身份证440304********1233"),
        ("身份证440304199001011234", "身份证440304199001011234"),  # wrong check character: not an ID
        (f"卡号{CARD}", "卡号6222***********0128"),
        ("卡号6222021234567890123", "卡号6222021234567890123"),  # fails Luhn
        ("工单20261126-000123，金额12000元，座机0755-83456789", "工单20261126-000123，金额12000元，座机0755-83456789"),
        ("订单号A13800138000B", "订单号A13800138000B"),
        ("", ""),
    ],
)
def test_numbers_inside_text(text, masked):
    assert policy.mask_text(text) == masked


def test_no_response_to_a_unit_holds_a_personal_value(api, personal, org):
    """The handler's whole path through the API: nothing it receives holds the numbers."""
    from conftest import LEGAL_BASIS  # noqa: F401 (the fixture module is imported for its data)

    responses = [
        api("get", f"/api/v1/tickets/{personal.pk}", "handler"),
        api("get", f"/api/v1/tickets/{personal.pk}/events", "handler"),
        api("get", "/api/v1/tickets", "handler"),
        api("post", f"/api/v1/tickets/{personal.pk}/sign", "handler"),
        api("post", f"/api/v1/tickets/{personal.pk}/reply", "handler", {"text": "已处理。", "outcome": "resolved"}),
        api("get", f"/api/v1/tickets/{personal.pk}", "leader"),
        api("get", "/api/v1/supervision/orders", "handler"),
    ]
    for response in responses:
        assert response.status_code == 200, response.content
        body = response.content.decode()
        for secret in (PHONE, EMAIL, ID_NUMBER, "13912345678", CARD, NAME):
            assert secret not in body


# --- reveals ----------------------------------------------------------------------------------


def reveal(api, ticket, who, field, reason="诉求人来电核实身份"):
    return api("post", f"/api/v1/tickets/{ticket.pk}/reveal", who, {"field": field, "reason": reason})


def test_a_supervisor_reveals_a_phone_with_a_reason_and_it_is_audited(api, personal, users):
    response = reveal(api, personal, "supervisor", "phone")
    assert response.json() == {"field": "phone", "value": PHONE}
    row = Reveal.objects.get()
    assert (row.ticket_id, row.field, row.user, row.role, row.reason, row.granted) == (
        personal.pk, "phone", users["supervisor"], "supervisor", "诉求人来电核实身份", True
    )
    audit = api("get", "/api/v1/privacy/reveals", "admin").json()
    assert [(r["ticket_number"], r["field"], r["user"], r["granted"]) for r in audit["results"]] == [
        (personal.number, "phone", "supervisor", True)
    ]


@pytest.mark.parametrize(
    ("who", "field", "reason", "status", "code"),
    [
        ("supervisor", "phone", "", 422, "reason_required"),
        ("supervisor", "phone", "  看 ", 422, "reason_required"),
        ("handler", "phone", "需要联系诉求人", 403, "role_not_allowed"),
        ("leader", "id_number", "需要联系诉求人", 403, "role_not_allowed"),
        ("agent", "phone", "需要联系诉求人", 403, "role_not_allowed"),  # sees it already: nothing to reveal
        ("cityleader", "phone", "需要联系诉求人", 403, "role_not_allowed"),
    ],
)
def test_refused_reveals_show_nothing_and_are_audited(api, personal, unchanged, who, field, reason, status, code):
    with unchanged(personal):
        body = assert_error(reveal(api, personal, who, field, reason), status, code)
    assert PHONE not in json.dumps(body, ensure_ascii=False)
    row = Reveal.objects.get()
    assert (row.field, row.granted, row.refusal) == (field, False, code)


def test_an_anonymous_requester_cannot_be_revealed(api, new_ticket):
    ticket = new_ticket("dispatched", anonymous=True, requester_name="", contact_allowed=True)
    assert_error(reveal(api, ticket, "supervisor", "phone"), 409, "anonymous")
    assert Reveal.objects.get().granted is False


def test_another_units_ticket_is_not_found_and_the_audit_is_for_few(api, personal):
    assert_error(reveal(api, personal, "other_handler", "phone"), 404, "ticket_not_found")
    assert_error(api("get", "/api/v1/privacy/reveals", "handler"), 403, "role_not_allowed")
    assert_error(api("get", "/api/v1/privacy/reveals", "dispatcher"), 403, "role_not_allowed")


# --- the requester's way back in ----------------------------------------------------------------


def test_access_codes_are_long_enough():
    codes = {new_access_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 10 for c in codes)
    alphabet = set("".join(codes))
    assert len(alphabet) >= 30  # about 50 bits per code


def test_guessing_locks_the_number_even_for_the_right_code(api_client, new_ticket, settings):
    settings.MINYI_TRACK_LOCK_ATTEMPTS = 5
    ticket = new_ticket()
    url = f"/api/v1/track/{ticket.number}"
    for _ in range(5):
        assert_error(api_client.get(url, HTTP_X_ACCESS_CODE="WRONGCODE1"), 404, "track_not_found")
    assert_error(api_client.get(url, HTTP_X_ACCESS_CODE=ticket.access_code), 429, "track_locked")
    # Another ticket is not affected.
    other = new_ticket()
    assert api_client.get(f"/api/v1/track/{other.number}", HTTP_X_ACCESS_CODE=other.access_code).status_code == 200


def test_the_lock_ends_with_its_window(api_client, new_ticket, settings):
    import time

    settings.MINYI_TRACK_LOCK_ATTEMPTS, settings.MINYI_TRACK_LOCK_SECONDS = 2, 1
    ticket = new_ticket()
    url = f"/api/v1/track/{ticket.number}"
    for _ in range(2):
        api_client.get(url, HTTP_X_ACCESS_CODE="WRONGCODE1")
    assert api_client.get(url, HTTP_X_ACCESS_CODE=ticket.access_code).status_code == 429
    time.sleep(1.1)
    assert api_client.get(url, HTTP_X_ACCESS_CODE=ticket.access_code).status_code == 200


# --- logs ---------------------------------------------------------------------------------------


def test_a_full_run_logs_no_personal_data(api, api_client, org, caplog, django_capture_on_commit_callbacks):
    """Intake with every personal field, dispatch, sign, reply (SMS and e-mail go out), rating,
    reveals granted and refused, wrong codes and errors: every log line at DEBUG, SQL included
    (the personal fields reach SQL sealed; the free text is not a personal field — numbers
    written in it are masked in views, see above — so this run's text has none)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connection.force_debug_cursor = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            data = submission_data(org, requester_email=EMAIL, requester_id_number=ID_NUMBER,
                                   text="小区3号楼电梯经常故障，已多次反映给物业仍未解决。")
            data["category_id"] = data.pop("category", org["property"].pk) if "category" in data else data["category_id"]
            created = api("post", "/api/v1/tickets", "agent", data)
            assert created.status_code in (200, 201), created.content
            body = created.json()
            pk, number, code = body["id"], body["number"], body["access_code"]
            api("post", f"/api/v1/tickets/{pk}/dispatch", "dispatcher", {"unit_id": org["housing"].pk})
            api("post", f"/api/v1/tickets/{pk}/sign", "handler")
            api("post", f"/api/v1/tickets/{pk}/reply", "handler", {"text": "已处理完毕，电梯已于今日修复。", "outcome": "resolved"})
            api_client.get(f"/api/v1/track/{number}", HTTP_X_ACCESS_CODE="WRONGCODE1")
            api_client.get(f"/api/v1/track/{number}", HTTP_X_ACCESS_CODE=code)
            api("post", f"/api/v1/tickets/{pk}/reveal", "supervisor", {"field": "phone", "reason": "回访核实"})
            api("post", f"/api/v1/tickets/{pk}/reveal", "handler", {"field": "phone", "reason": "联系"})
            api("post", "/api/v1/tickets", "agent", {**data, "requester_phone": "123"})  # a refused intake
            api_client.post(f"/api/v1/track/{number}/rate", {"rating": "satisfied", "code": code},
                            content_type="application/json")
    finally:
        connection.force_debug_cursor = False
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "SELECT" in text  # the SQL was in the scan
    for secret in (NAME, PHONE, EMAIL, ID_NUMBER, ADDRESS, code):
        assert secret not in text, secret
