"""The API's front door: tokens, the caller, the organisation lists, the schema and its docs."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from conftest import PASSWORD, assert_error, make_user
from minyi.core import clock
from minyi.org.models import ApiToken, Unit

TOKEN_URL = "/api/v1/auth/token"


def login(client, username, password=PASSWORD):
    return client.post(TOKEN_URL, {"username": username, "password": password}, content_type="application/json")


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


# --- tokens -----------------------------------------------------------------------------------


def test_login(api_client, users):
    before = clock.now()
    response = login(api_client, "handler")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "token_type", "expires_at"}
    assert body["token_type"] == "Bearer"
    assert len(body["token"]) >= 40
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert dt.timedelta(hours=12) <= expires - before < dt.timedelta(hours=12, minutes=1)
    # Only a digest is stored.
    row = ApiToken.objects.get(user=users["handler"])
    assert row.key_hash != body["token"]
    assert re.fullmatch(r"[0-9a-f]{64}", row.key_hash)


@pytest.mark.parametrize(("username", "password"), [("handler", "wrong-password"), ("nobody", PASSWORD), ("", "")])
def test_login_refused(api_client, users, username, password):
    assert_error(login(api_client, username, password), 401, "invalid_credentials")
    assert ApiToken.objects.count() == 0


def test_an_inactive_user_cannot_log_in(api_client, users):
    users["handler"].is_active = False
    users["handler"].save()
    assert_error(login(api_client, "handler"), 401, "invalid_credentials")


def test_login_needs_both_fields(api_client, users):
    response = api_client.post(TOKEN_URL, {"username": "handler"}, content_type="application/json")
    assert_error(response, 422, "invalid", field="password")


def test_login_is_rate_limited(api_client, users):
    for _ in range(10):
        assert_error(login(api_client, "handler", "guess"), 401, "invalid_credentials")
    # The eleventh attempt in the window is refused even with the right password.
    assert_error(login(api_client, "handler"), 429, "rate_limited")
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-token", "Bearer ", "Token abc", "Basic aGFuZGxlcjpwdw==", "bearer"],
)
def test_bad_tokens(api_client, users, header):
    assert_error(api_client.get("/api/v1/me", HTTP_AUTHORIZATION=header), 401, "invalid_token")


def test_no_token(api_client, db):
    assert_error(api_client.get("/api/v1/me"), 401, "not_authenticated")


def test_an_expired_token(api_client, users):
    token = login(api_client, "handler").json()["token"]
    assert api_client.get("/api/v1/me", **bearer(token)).status_code == 200
    with clock.frozen_at(clock.now() + dt.timedelta(hours=12, seconds=1)):
        assert_error(api_client.get("/api/v1/me", **bearer(token)), 401, "invalid_token")


def test_a_deactivated_users_token_stops_working(api_client, users):
    token = login(api_client, "handler").json()["token"]
    users["handler"].is_active = False
    users["handler"].save()
    assert_error(api_client.get("/api/v1/me", **bearer(token)), 401, "invalid_token")


def test_an_invalid_token_is_refused_even_where_the_public_is_welcome(api_client, org):
    response = api_client.post(
        "/api/v1/tickets", {}, content_type="application/json", HTTP_AUTHORIZATION="Bearer forged"
    )
    assert_error(response, 401, "invalid_token")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/me"),
        ("get", "/api/v1/tickets"),
        ("get", "/api/v1/tickets/1"),
        ("get", "/api/v1/tickets/1/events"),
        ("post", "/api/v1/tickets/1/direct_answer"),
        ("post", "/api/v1/tickets/1/dispatch"),
        ("post", "/api/v1/tickets/1/sign"),
        ("post", "/api/v1/tickets/1/return"),
        ("post", "/api/v1/tickets/1/arbitrate"),
        ("post", "/api/v1/tickets/1/assist_input"),
        ("get", "/api/v1/tickets/1/routing"),
        ("get", "/api/v1/dispatch/returns"),
        ("post", "/api/v1/tickets/1/reply"),
        ("post", "/api/v1/tickets/1/rate"),
        ("post", "/api/v1/tickets/1/close"),
        ("post", "/api/v1/tickets/1/request_extension"),
        ("post", "/api/v1/tickets/1/decide_extension"),
        ("post", "/api/v1/tickets/1/file_plan"),
        ("post", "/api/v1/tickets/1/decide_plan"),
        ("post", "/api/v1/tickets/1/record_milestone"),
        ("get", "/api/v1/supervision/orders"),
        ("post", "/api/v1/supervision/orders"),
        ("post", "/api/v1/supervision/orders/1/answer"),
        ("post", "/api/v1/supervision/orders/1/close"),
        ("get", "/api/v1/supervision/dashboard"),
        ("post", "/api/v1/tickets/1/approve_reply"),
        ("post", "/api/v1/tickets/1/reject_reply"),
        ("post", "/api/v1/tickets/1/review"),
        ("get", "/api/v1/feedback/units"),
        ("get", "/api/v1/quality/screenings"),
        ("post", "/api/v1/quality/screenings/1/confirm"),
        ("post", "/api/v1/quality/screenings/1/dismiss"),
        ("post", "/api/v1/tickets/1/reveal"),
        ("get", "/api/v1/privacy/reveals"),
        ("get", "/api/v1/sla/status"),
    ],
)
def test_staff_endpoints_need_a_token(api, db, method, path):
    assert_error(api(method, path), 401, "not_authenticated")


# --- the caller -------------------------------------------------------------------------------


def test_me_for_a_unit_handler(api, users, org):
    response = api("get", "/api/v1/me", "handler")
    assert response.status_code == 200
    assert response.json() == {
        "id": users["handler"].pk,
        "username": "handler",
        "display_name": "handler",
        "roles": ["handler"],
        "unit": {
            "id": org["housing"].pk, "code": "SZZJJ", "name": "深圳市住房和建设局",
            "kind": "city_bureau", "parent_id": None, "region_id": None,
        },
    }


def test_me_without_a_unit_and_with_several_roles(api, users):
    users["cityleader"].groups.add(*users["supervisor"].groups.all())
    body = api("get", "/api/v1/me", "cityleader").json()
    assert (body["roles"], body["unit"]) == (["city_leader", "supervisor"], None)


def test_me_without_a_role(api_client, org, users):
    make_user("nobody", [], None)
    token = login(api_client, "nobody").json()["token"]
    assert_error(api_client.get("/api/v1/me", **bearer(token)), 403, "no_role")


# --- the organisation -------------------------------------------------------------------------


def test_units(api_client, org):
    Unit.objects.filter(code="FT-LH").update(active=False)
    response = api_client.get("/api/v1/units")
    assert response.status_code == 200
    assert response.json() == [
        {"id": org["centre"].pk, "code": "SZ12345", "name": "深圳市12345热线服务中心", "kind": "platform",
         "parent_id": None, "region_id": None},
        {"id": org["transport"].pk, "code": "SZJTJ", "name": "深圳市交通运输局", "kind": "city_bureau",
         "parent_id": None, "region_id": None},
        {"id": org["housing"].pk, "code": "SZZJJ", "name": "深圳市住房和建设局", "kind": "city_bureau",
         "parent_id": None, "region_id": None},
    ]


def test_categories(api_client, org):
    response = api_client.get("/api/v1/categories")
    assert response.status_code == 200
    assert response.json() == [
        {"id": org["urban"].pk, "code": "01", "name": "城乡建设", "path": "城乡建设", "level": 1,
         "parent_id": None, "default_type": "", "default_unit_id": None},
        {"id": org["property"].pk, "code": "0101", "name": "物业管理", "path": "城乡建设 / 物业管理",
         "level": 2, "parent_id": org["urban"].pk, "default_type": "complaint",
         "default_unit_id": org["housing"].pk},
        {"id": org["traffic"].pk, "code": "02", "name": "交通运输", "path": "交通运输", "level": 1,
         "parent_id": None, "default_type": "", "default_unit_id": None},
        {"id": org["bus"].pk, "code": "0201", "name": "公交服务", "path": "交通运输 / 公交服务",
         "level": 2, "parent_id": org["traffic"].pk, "default_type": "consultation",
         "default_unit_id": org["transport"].pk},
    ]


def test_regions(api_client, org):
    response = api_client.get("/api/v1/regions")
    assert response.status_code == 200
    assert response.json() == [
        {"id": org["futian"].pk, "code": "440304", "name": "福田区", "kind": "district", "parent_id": None},
        {"id": org["lianhua"].pk, "code": "440304001", "name": "莲花街道", "kind": "street",
         "parent_id": org["futian"].pk},
        {"id": org["nanshan"].pk, "code": "440305", "name": "南山区", "kind": "district", "parent_id": None},
        {"id": org["yuehai"].pk, "code": "440305001", "name": "粤海街道", "kind": "street",
         "parent_id": org["nanshan"].pk},
    ]


# --- the schema and its documentation ---------------------------------------------------------

PATHS = {
    "/api/v1/assist/intake": {"post"},
    "/api/v1/auth/token": {"post"},
    "/api/v1/me": {"get"},
    "/api/v1/units": {"get"},
    "/api/v1/categories": {"get"},
    "/api/v1/regions": {"get"},
    "/api/v1/tickets": {"get", "post"},
    "/api/v1/tickets/{ticket_id}": {"get"},
    "/api/v1/tickets/{ticket_id}/events": {"get"},
    "/api/v1/tickets/{ticket_id}/attachments/{token}": {"get"},
    "/api/v1/tickets/{ticket_id}/direct_answer": {"post"},
    "/api/v1/tickets/{ticket_id}/dispatch": {"post"},
    "/api/v1/tickets/{ticket_id}/sign": {"post"},
    "/api/v1/tickets/{ticket_id}/return": {"post"},
    "/api/v1/tickets/{ticket_id}/arbitrate": {"post"},
    "/api/v1/tickets/{ticket_id}/assist_input": {"post"},
    "/api/v1/tickets/{ticket_id}/routing": {"get"},
    "/api/v1/tickets/{ticket_id}/duplicates": {"get"},
    "/api/v1/tickets/{ticket_id}/merge": {"post"},
    "/api/v1/dispatch/returns": {"get"},
    "/api/v1/tickets/{ticket_id}/reply": {"post"},
    "/api/v1/tickets/{ticket_id}/rate": {"post"},
    "/api/v1/tickets/{ticket_id}/close": {"post"},
    "/api/v1/tickets/{ticket_id}/request_extension": {"post"},
    "/api/v1/tickets/{ticket_id}/decide_extension": {"post"},
    "/api/v1/tickets/{ticket_id}/file_plan": {"post"},
    "/api/v1/tickets/{ticket_id}/decide_plan": {"post"},
    "/api/v1/tickets/{ticket_id}/record_milestone": {"post"},
    "/api/v1/sla/deadline": {"get"},
    "/api/v1/sla/holidays": {"get"},
    "/api/v1/sla/status": {"get"},
    "/api/v1/supervision/orders": {"get", "post"},
    "/api/v1/supervision/orders/{order_id}/answer": {"post"},
    "/api/v1/supervision/orders/{order_id}/close": {"post"},
    "/api/v1/supervision/dashboard": {"get"},
    "/api/v1/tickets/{ticket_id}/approve_reply": {"post"},
    "/api/v1/tickets/{ticket_id}/reject_reply": {"post"},
    "/api/v1/tickets/{ticket_id}/review": {"post"},
    "/api/v1/feedback/outcomes": {"get"},
    "/api/v1/feedback/units": {"get"},
    "/api/v1/rate/{token}": {"get", "post"},
    "/api/v1/quality/screenings": {"get"},
    "/api/v1/quality/screenings/{screening_id}/confirm": {"post"},
    "/api/v1/quality/screenings/{screening_id}/dismiss": {"post"},
    "/api/v1/tickets/{ticket_id}/reveal": {"post"},
    "/api/v1/privacy/reveals": {"get"},
    "/api/v1/insights/kpis": {"get"},
    "/api/v1/track/{number}": {"get"},
    "/api/v1/track/{number}/rate": {"post"},
    "/api/v1/calls/tickets/{ticket_id}/bind": {"post"},
    "/api/v1/calls/tickets/{ticket_id}": {"get"},
    "/api/v1/calls/callback": {"post"},
}


def test_openapi_lists_every_path(api_client, db):
    response = api_client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Minyi API"
    assert {path: set(ops) for path, ops in schema["paths"].items()} == PATHS
    # Creation documents both JSON and multipart bodies.
    content = schema["paths"]["/api/v1/tickets"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    assert "attachments" in content["multipart/form-data"]["schema"]["properties"]
    # ...and so does recording a milestone, with its evidence files.
    content = schema["paths"]["/api/v1/tickets/{ticket_id}/record_milestone"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    assert set(content["multipart/form-data"]["schema"]["properties"]) == {"milestone_id", "evidence", "files"}
    # Every staff transition documents its refusals.
    for name in [
        "direct_answer", "dispatch", "merge", "sign", "return", "reply", "rate", "close",
        "request_extension", "decide_extension", "file_plan", "decide_plan", "record_milestone",
    ]:
        responses = schema["paths"][f"/api/v1/tickets/{{ticket_id}}/{name}"]["post"]["responses"]
        assert {"200", "401", "403", "404", "409", "422"} <= set(responses), name


@pytest.fixture
def plain_static(settings):
    """Tests run without `collectstatic`; serve static names unhashed."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def test_docs_render_from_local_static(api_client, db, plain_static):
    response = api_client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/v1/openapi.json" in html
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "/static/ninja/swagger-ui.css" in html
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs", "//fonts."):
        assert cdn not in html
    assert not re.search(r"""(src|href)=["']https?://""", html)


def test_the_docs_static_files_exist(db):
    from django.contrib.staticfiles import finders

    for name in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui.css", "ninja/swagger-ui-init.js"):
        assert finders.find(name), name
