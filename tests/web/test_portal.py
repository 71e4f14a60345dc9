"""The citizen portal: submitting a request, following it with number and code, rating it."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from minyi.tickets.access import access_track
from minyi.tickets.models import Attachment, Ticket, TicketRating

VALID_CREDIT_CODE = "91350100M000100Y43"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def form_data(org, **overrides) -> dict:
    """What a browser posts for a named citizen (unchecked checkboxes are simply absent)."""
    data = {
        "type": "complaint",
        "category_id": str(org["property"].pk),
        "district": org["futian"].code,
        "street": org["lianhua"].code,
        "address": "莲花北村12栋",
        "title": "小区电梯经常故障",
        "text": "莲花北村12栋电梯近一个月故障五次，物业一直没有彻底维修。",
        "requester_kind": "citizen",
        "requester_name": "张三",
        "contact_allowed": "on",
        "requester_phone": "13800138000",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def submit(client: Client, org, **overrides):
    return client.post("/", form_data(org, **overrides))


def receipt(client: Client) -> tuple[str, str, str]:
    """Open the one-time receipt page; return (html, number, code)."""
    response = client.get("/submitted/")
    assert response.status_code == 200
    html = response.content.decode()
    number = re.search(r'id="ticket-number">([^<]+)<', html).group(1)
    code = re.search(r'id="access-code">([^<]+)<', html).group(1)
    return html, number, code


def field_errors(html: str, field: str) -> list[str]:
    """The error messages shown under one field of a rendered form."""
    assert f'name="{field}"' in html, f"field {field} not rendered"
    return re.findall(rf'<p class="error" role="alert" data-field="{field}">([^<]+)</p>', html)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


# --- the form --------------------------------------------------------------------------------


def test_home_shows_the_form_in_chinese_with_grouped_leaf_categories(org):
    response = Client().get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-CN">' in html
    assert "我要反映" in html and "诉求类型" in html and "统一社会信用代码" in html
    assert '<optgroup label="城乡建设">' in html
    assert f'<option value="{org["property"].pk}">物业管理</option>' in html
    # A level-1 category with children is a group, not a choice.
    assert f'<option value="{org["urban"].pk}"' not in html
    # The time limits of the deadline policy are stated.
    for text in [
        "24小时内处置",
        "咨询",
        "2个工作日内办结",
        "求助、建议",
        "10个工作日内办结",
        "投诉、举报",
        "15个工作日内办结",
    ]:
        assert text in html, text
    # The attachment limits are stated.
    assert "最多 5 个文件，每个不超过 10 MB" in html
    # The street select reloads by district through HTMX.
    assert 'hx-get="/streets/"' in html and 'hx-target="#id_street"' in html
    # htmx is served from our own static files, never a CDN.
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', html)


def test_streets_partial_lists_the_streets_of_a_district(org):
    html = Client().get("/streets/", {"district": org["nanshan"].code}).content.decode()
    assert f'<option value="{org["yuehai"].code}">粤海街道</option>' in html
    assert "莲花街道" not in html
    everything = Client().get("/streets/").content.decode()
    assert '<optgroup label="福田区">' in everything and "粤海街道" in everything


# --- submitting ------------------------------------------------------------------------------


def test_a_named_citizen_submits_and_sees_number_and_code_once(org):
    client = Client()
    response = submit(client, org)
    assert response.status_code == 302 and response["Location"] == "/submitted/"
    html, number, code = receipt(client)
    assert "请立即记下工单编号和查询码" in html
    assert "截止时间" in html
    ticket = Ticket.objects.get(number=number)
    assert ticket.channel == "web"
    assert ticket.requester_name == "张三" and ticket.requester_phone == "13800138000"
    assert ticket.created_by is None
    assert access_track(number, code) == ticket
    # The code is not in any link of the receipt, and the page is not shown twice.
    assert code not in re.findall(r'href="([^"]*)"', html).__str__()
    assert client.get("/submitted/")["Location"] == "/"
    # The follow link works straight away (the session remembers the code).
    follow = client.get(f"/track/{number}/")
    assert follow.status_code == 200 and "已受理" in follow.content.decode()


def test_an_anonymous_submission_keeps_no_identity(org):
    client = Client()
    submit(
        client, org, anonymous="on", requester_name="张三", contact_allowed=None, requester_phone=""
    )
    _html, number, _code = receipt(client)
    ticket = Ticket.objects.get(number=number)
    assert ticket.anonymous is True
    assert ticket.requester_name == "" and ticket.requester_phone == ""


def test_an_anonymous_requester_may_leave_a_phone_to_be_called_back(org):
    client = Client()
    submit(client, org, anonymous="on", requester_name="")
    _html, number, _code = receipt(client)
    ticket = Ticket.objects.get(number=number)
    assert ticket.anonymous is True and ticket.contact_allowed is True
    assert ticket.requester_phone == "13800138000" and ticket.requester_name == ""


def test_an_enterprise_submits_with_its_credit_code(org):
    client = Client()
    submit(
        client,
        org,
        requester_kind="enterprise",
        enterprise_name="深圳市某某科技有限公司",
        enterprise_credit_code=VALID_CREDIT_CODE.lower(),
        type="help",
        urgent="on",
    )
    _html, number, _code = receipt(client)
    ticket = Ticket.objects.get(number=number)
    assert ticket.requester_kind == "enterprise"
    assert ticket.enterprise_name == "深圳市某某科技有限公司"
    assert ticket.enterprise_credit_code == VALID_CREDIT_CODE
    assert ticket.urgent is True and ticket.type == "help"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "请填写：标题。"),
        ({"category_id": ""}, "category_id", "请选择有效的诉求分类。"),
        ({"district": ""}, "district", "请选择有效的区。"),
        ({"street": "440305001"}, "street", "所选街道不属于该区。"),
        ({"requester_name": ""}, "requester_name", "请填写您的姓名，或选择匿名提交。"),
        ({"requester_phone": "12345"}, "requester_phone", "电话号码格式不正确。"),
        (
            {
                "requester_kind": "enterprise",
                "enterprise_name": "某公司",
                "enterprise_credit_code": "91350100M000100Y44",
            },
            "enterprise_credit_code",
            "统一社会信用代码无效（应为18位，含校验位）。",
        ),
    ],
)
def test_bad_input_is_shown_on_its_field_and_creates_nothing(org, overrides, field, message):
    response = submit(Client(), org, **overrides)
    assert response.status_code == 422
    html = response.content.decode()
    assert field_errors(html, field) == [message]
    assert "请修改标出的内容后重新提交" in html
    # The input is kept.
    assert "莲花北村12栋电梯近一个月故障五次" in html
    assert Ticket.objects.count() == 0


def test_an_attachment_is_saved_with_the_ticket(org):
    client = Client()
    data = form_data(org)
    data["attachments"] = [SimpleUploadedFile("现场.png", PNG, content_type="image/png")]
    assert client.post("/", data).status_code == 302
    _html, number, _code = receipt(client)
    attachment = Attachment.objects.get(ticket__number=number)
    assert attachment.name == "现场.png" and attachment.content_type == "image/png"


def test_a_file_that_is_not_an_image_or_pdf_is_refused(org):
    data = form_data(org)
    data["attachments"] = [
        SimpleUploadedFile("photo.png", b"MZ not really a picture", content_type="image/png")
    ]
    response = Client().post("/", data)
    assert response.status_code == 422
    html = response.content.decode()
    assert field_errors(html, "attachments") == [
        "只能上传图片（JPEG、PNG、GIF、WebP）和 PDF 文档。"
    ]
    assert "已选择的附件不会保留，请重新选择" in html
    assert Ticket.objects.count() == 0 and Attachment.objects.count() == 0


def test_too_many_submissions_are_refused(org, settings, one_rate_window):
    settings.MINYI_PUBLIC_RATE_LIMIT = 1
    client = Client()
    assert submit(client, org).status_code == 302
    response = submit(client, org)
    assert response.status_code == 429
    assert "请求过于频繁" in response.content.decode()
    assert Ticket.objects.count() == 1


# --- following -------------------------------------------------------------------------------


def test_tracking_with_a_wrong_code_is_refused(new_ticket):
    ticket = new_ticket("dispatched")
    client = Client()
    for number, code in [(ticket.number, "WRONGCODE2"), ("20000101-000001", ticket.access_code)]:
        response = client.post("/track/", {"number": number, "code": code})
        assert response.status_code == 404
        assert "工单编号或查询码错误" in response.content.decode()
    assert client.get(f"/track/{ticket.number}/")["Location"] == f"/track/?number={ticket.number}"


def test_tracking_shows_status_deadline_unit_and_public_timeline(new_ticket, users):
    ticket = new_ticket("replied")
    client = Client()
    response = client.post("/track/", {"number": ticket.number, "code": ticket.access_code.lower()})
    assert response.status_code == 302
    assert response["Location"] == f"/track/{ticket.number}/"
    assert ticket.access_code not in response["Location"]
    # A refresh works: the verified code stays in the session, not in the URL.
    for _ in range(2):
        page = client.get(response["Location"])
        assert page.status_code == 200
    html = page.content.decode()
    assert "已答复" in html and "深圳市住房和建设局" in html
    assert ticket.due_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") in html
    for label in ["诉求已受理", "已派发至承办单位", "承办单位已签收", "已答复"]:
        assert label in html
    assert "已安排维保单位更换电梯主板" in html
    # Staff names never reach the requester.
    assert "dispatcher" not in html and "handler" not in html
    assert "评价答复" in html  # the rating form, because the ticket is replied
    # The lookup page lists the ticket followed on this device.
    assert ticket.number in client.get("/track/").content.decode()


def test_the_requester_rates_through_htmx(new_ticket):
    ticket = new_ticket("replied")
    client = Client()
    client.post("/track/", {"number": ticket.number, "code": ticket.access_code})
    response = client.post(
        f"/track/{ticket.number}/rate",
        {"rating": "satisfied", "comment": "很及时"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="track-panel"')
    assert "感谢您的评价" in html and "已办结" in html and "评价答复" not in html
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    rating = TicketRating.objects.get(ticket=ticket)
    assert (rating.rating, rating.comment, rating.recorded_by) == ("satisfied", "很及时", None)


def test_rating_without_javascript_redirects_back(new_ticket):
    ticket = new_ticket("replied")
    client = Client()
    client.post("/track/", {"number": ticket.number, "code": ticket.access_code})
    response = client.post(f"/track/{ticket.number}/rate", {"rating": "dissatisfied"})
    assert response["Location"] == f"/track/{ticket.number}/"
    ticket.refresh_from_db()
    assert ticket.status == "under_review"


def test_a_rating_without_a_choice_is_refused_on_its_field(new_ticket):
    ticket = new_ticket("replied")
    client = Client()
    client.post("/track/", {"number": ticket.number, "code": ticket.access_code})
    response = client.post(f"/track/{ticket.number}/rate", {"comment": "x"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert field_errors(response.content.decode(), "rating") == ["请选择评价。"]
    ticket.refresh_from_db()
    assert ticket.status == "replied" and not TicketRating.objects.exists()


def test_rating_before_the_reply_is_refused_and_shows_the_state(new_ticket):
    ticket = new_ticket("in_progress")
    client = Client()
    client.post("/track/", {"number": ticket.number, "code": ticket.access_code})
    page = client.get(f"/track/{ticket.number}/").content.decode()
    assert "评价答复" not in page
    response = client.post(
        f"/track/{ticket.number}/rate", {"rating": "satisfied"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409
    assert "工单当前状态为“办理中”" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "in_progress" and not TicketRating.objects.exists()


def test_rating_needs_a_verified_code_in_the_session(new_ticket):
    ticket = new_ticket("replied")
    response = Client().post(f"/track/{ticket.number}/rate", {"rating": "satisfied"})
    assert response["Location"] == f"/track/?number={ticket.number}"
    htmx = Client().post(
        f"/track/{ticket.number}/rate", {"rating": "satisfied"}, HTTP_HX_REQUEST="true"
    )
    assert htmx["HX-Redirect"] == f"/track/?number={ticket.number}"
    ticket.refresh_from_db()
    assert ticket.status == "replied"


def test_the_portal_switches_to_english(org):
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert "Submit a request" in html and "Request type" in html
    assert '<html lang="en">' in html


def test_every_static_file_a_page_links_exists(org):
    from django.contrib.staticfiles import finders

    html = Client().get("/").content.decode()
    paths = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert {"web/minyi.css", "web/minyi.js", "django_htmx/htmx-2.min.js"} <= set(paths)
    for path in paths:
        assert finders.find(path), path
