"""A carrier-hosted pool: Minyi binds and unbinds through the carrier's AXB HTTP API (a tiny
local server stands in for the carrier) and learns of calls through the callback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from minyi.calls import actions
from minyi.calls.models import Binding, HandlerLine, VirtualNumber
from minyi.calls.providers import HttpAxbProvider, LocalPool, ProviderError, get_provider
from minyi.core.errors import DomainError
from minyi.tickets import actions as ticket_actions

A, B = "13800138000", "13912345678"
X1, X2 = "075566660001", "075566660002"
TOKEN = "carrier-token"


class Carrier:
    """What the fake carrier received, and what it answers next."""

    def __init__(self):
        self.requests: list[tuple[str, dict, str]] = []
        self.status = 200
        self.answer: dict | None = None
        self.counter = 0


@pytest.fixture
def carrier(settings):
    state = Carrier()

    class Api(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append((self.path, body, self.headers.get("Authorization", "")))
            if self.path == "/axb/bind" and state.answer is None:
                state.counter += 1
                answer = {"x": body["x"], "binding_id": f"sub-{state.counter}"}
            else:
                answer = state.answer or {"ok": True}
            data = json.dumps(answer).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.MINYI_AXB_URL = f"http://127.0.0.1:{server.server_address[1]}/axb"
    settings.MINYI_AXB_TOKEN = TOKEN
    settings.MINYI_AXB_CARRIER = "unicom"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def carrier_ticket(new_ticket, users, carrier):
    VirtualNumber.objects.create(number=X1, provider="unicom")
    VirtualNumber.objects.create(number=X2, provider="unicom")
    HandlerLine.objects.create(user=users["handler"], phone=B)
    return new_ticket("in_progress")


def test_providers_by_name(carrier):
    assert isinstance(get_provider("local"), LocalPool)
    assert isinstance(get_provider("unicom"), HttpAxbProvider)
    with pytest.raises(ProviderError) as caught:
        get_provider("telecom")
    assert caught.value.code == "provider_not_configured"


def test_bind_and_unbind_at_the_carrier(carrier_ticket, carrier, actors, travel, django_capture_on_commit_callbacks):
    travel("2026-12-01T10:00")
    binding = actions.bind(actors["handler"], carrier_ticket.pk)
    assert (binding.number.number, binding.provider, binding.provider_ref) == (X1, "unicom", "sub-1")
    ((path, body, auth),) = carrier.requests
    assert (path, auth) == ("/axb/bind", f"Bearer {TOKEN}")
    assert body == {"a": A, "b": B, "x": X1, "expires_at": "2026-12-01T10:30:00+08:00", "ttl_seconds": 1800}
    # The ticket closes: the job ends the binding and the carrier is told after the commit.
    ticket_actions.reply(actors["handler"], carrier_ticket.pk, "已安排维保单位更换电梯主板，并于本周五前完成检测。", outcome="resolved")
    ticket_actions.close(actors["dispatcher"], carrier_ticket.pk, note="已回访")
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.end_bindings_for_closed_tickets() == 1
    assert carrier.requests[-1][:2] == ("/axb/unbind", {"binding_id": "sub-1", "x": X1})


def test_the_carrier_may_choose_another_pool_number(carrier_ticket, carrier, actors):
    carrier.answer = {"x": "+86 755 6666 0002", "binding_id": "sub-9"}
    binding = actions.bind(actors["handler"], carrier_ticket.pk)
    assert (binding.number.number, binding.provider_ref) == (X2, "sub-9")


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (500, {"error": "busy"}),
        (403, {"error": "forbidden"}),
        (200, {"x": X1}),  # no binding id
        (200, {"x": "075500000000", "binding_id": "sub-1"}),  # a number outside the pool
    ],
)
def test_a_carrier_refusal_binds_nothing(carrier_ticket, carrier, actors, unchanged, status, answer):
    carrier.status, carrier.answer = status, answer
    with unchanged(carrier_ticket), pytest.raises(DomainError) as caught:
        actions.bind(actors["handler"], carrier_ticket.pk)
    assert (caught.value.http_status, caught.value.code) == (502, "provider_error")
    assert Binding.objects.count() == 0
    assert A not in str(caught.value.message)


def test_a_silent_carrier(carrier_ticket, settings, actors, unchanged):
    settings.MINYI_AXB_URL = "http://127.0.0.1:9/axb"  # the discard port: nothing answers
    with unchanged(carrier_ticket), pytest.raises(DomainError) as caught:
        actions.bind(actors["handler"], carrier_ticket.pk)
    assert caught.value.code == "provider_error"


def test_the_api_answers_502_for_a_carrier_refusal(carrier_ticket, carrier, api):
    carrier.status, carrier.answer = 500, {"error": "busy"}
    response = api("post", f"/api/v1/calls/tickets/{carrier_ticket.pk}/bind", "handler")
    assert response.status_code == 502
    assert response.json()["code"] == "provider_error"


def test_the_carriers_call_record_finds_the_binding_by_its_id(carrier_ticket, carrier, actors, travel):
    travel("2026-12-01T10:00")
    binding = actions.bind(actors["handler"], carrier_ticket.pk)
    import datetime as dt

    record, changed = actions.record_call(actions.CallReport(
        call_id="unicom-call-1", binding_ref="sub-1", caller=B,
        started_at=dt.datetime(2026, 12, 1, 2, 1, tzinfo=dt.UTC), ended_at=dt.datetime(2026, 12, 1, 2, 3, tzinfo=dt.UTC),
        answered_at=dt.datetime(2026, 12, 1, 2, 1, 30, tzinfo=dt.UTC),
    ))
    assert changed and record.binding_id == binding.pk
    assert (record.direction, record.duration_seconds, record.result) == ("b_to_a", 90, "answered")


def test_a_failed_unbind_raises_for_the_retry(carrier_ticket, carrier, actors, travel):
    from minyi.calls.tasks import unbind_at_provider

    travel("2026-12-01T10:00")
    binding = actions.bind(actors["handler"], carrier_ticket.pk)
    travel("2026-12-01T10:31")
    actions.expire_bindings()
    carrier.status, carrier.answer = 503, {"error": "down"}
    with pytest.raises(ProviderError):
        unbind_at_provider.call_local(binding.pk)
    carrier.status, carrier.answer = 200, None
    assert unbind_at_provider.call_local(binding.pk) is True
