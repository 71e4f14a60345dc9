"""The SIP redirect server against a real SIP peer: SIPp (Debian's `sip-tester` package) sends
INVITEs to virtual numbers and checks the answers, the server reads the test database.

Select with `-k sipp`. Without /usr/bin/sipp the tests skip with a message, except on CI
(CI=true), where a missing SIPp is a failure (scripts/ensure-system-packages.sh installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from conftest import make_user, submission_data
from minyi.calls import actions
from minyi.calls.models import CallRecord, HandlerLine, VirtualNumber
from minyi.calls.sip import ServerThread
from minyi.org.actors import actor_for_user
from minyi.org.models import Category, Region, Role, Unit
from minyi.tickets import actions as ticket_actions
from minyi.tickets.intake import clean_submission
from minyi.tickets.models import TicketEvent

SCENARIOS = Path(__file__).resolve().parent / "sipp"
SIPP = shutil.which("sipp") or "/usr/bin/sipp"
A, B = "13800138000", "13912345678"
X, UNBOUND = "075588880001", "075588880002"

pytestmark = [
    pytest.mark.sipp,
    # The server's threads read what the test committed: no wrapping transaction.
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _sipp():
    if not Path(SIPP).exists():
        message = f"the SIP tests need SIPp: {SIPP} is missing (apt-get install sip-tester)"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(message + " (CI=true: not skipping)", pytrace=False)
        pytest.skip(message)


@pytest.fixture(autouse=True)
def _reference_data(transactional_db, reference_data):
    """Transactional tests run on a flushed database: restore what the migrations created."""


@pytest.fixture
def bound():
    """The housing bureau's handler has bound the requester of a ticket in progress to X."""
    housing = Unit.objects.create(code="SZZJJ", name="深圳市住房和建设局", kind="city_bureau")
    centre = Unit.objects.create(code="SZ12345", name="深圳市12345热线服务中心", kind="platform")
    futian = Region.objects.create(code="440304", name="福田区", kind="district")
    lianhua = Region.objects.create(code="440304001", name="莲花街道", kind="street", parent=futian)
    urban = Category.objects.create(code="01", name="城乡建设")
    category = Category.objects.create(code="0101", name="物业管理", parent=urban, default_unit=housing)
    agent = actor_for_user(make_user("agent", [Role.INTAKE_AGENT], centre))
    dispatcher = actor_for_user(make_user("dispatcher", [Role.DISPATCHER], centre))
    handler_user = make_user("handler", [Role.HANDLER], housing)
    handler = actor_for_user(handler_user)
    HandlerLine.objects.create(user=handler_user, phone=B)
    VirtualNumber.objects.create(number=X)
    VirtualNumber.objects.create(number=UNBOUND, active=False)
    org = {"property": category, "futian": futian, "lianhua": lianhua}
    ticket, _code = ticket_actions.submit(agent, clean_submission(submission_data(org), [], channel="hotline"))
    ticket_actions.dispatch(dispatcher, ticket.pk, housing.pk)
    ticket_actions.sign(handler, ticket.pk)
    binding = actions.bind(handler, ticket.pk)
    assert binding.number.number == X
    assert Group.objects.filter(name=Role.HANDLER).exists()
    return binding


@pytest.fixture
def server(settings):
    settings.MINYI_SIP_GATEWAY = "pstn-gw.example.org"
    thread = ServerThread("127.0.0.1", 0)
    port = thread.start()
    yield port
    thread.stop()


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sipp(scenario: str, service: str, caller: str, port: int, workdir: Path) -> tuple[int, str]:
    """Run one call of `scenario`; (exit code, what its <log> actions wrote)."""
    command = [
        SIPP, "-sf", str(SCENARIOS / scenario), "-m", "1", "-s", service, f"127.0.0.1:{port}",
        "-i", "127.0.0.1", "-p", str(free_udp_port()), "-key", "caller", caller,
        "-timeout", "10", "-timeout_error", "-trace_err", "-trace_logs", "-nostdin",
        "-log_file", str(workdir / "actions.log"), "-error_file", str(workdir / "errors.log"),
    ]
    done = subprocess.run(  # noqa: S603 (a fixed program and arguments the test builds)
        command, cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
    )
    errors = (workdir / "errors.log").read_text() if (workdir / "errors.log").exists() else ""
    assert done.returncode == 0, f"sipp exit {done.returncode}\n{errors}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.returncode, (workdir / "actions.log").read_text() if (workdir / "actions.log").exists() else ""


def test_the_handler_is_redirected_to_the_requester(bound, server, tmp_path):
    _code, log = sipp("invite_302.xml", X, B, server, tmp_path)
    assert re.search(rf"contact= ?<sip:{A}@pstn-gw\.example\.org> target={A}\b", log), log
    record = CallRecord.objects.get()
    assert (record.binding_id, record.direction, record.caller_role, record.result) == (
        bound.pk, "b_to_a", "handler", "routed",
    )
    assert TicketEvent.objects.filter(ticket=bound.ticket, kind="call_started").count() == 1


def test_the_requester_calling_back_is_redirected_to_the_handler(bound, server, tmp_path):
    _code, log = sipp("invite_302.xml", X, "+86" + A, server, tmp_path)
    assert f"target={B}" in log, log
    assert CallRecord.objects.get().direction == "a_to_b"


def test_an_unknown_caller_is_forbidden(bound, server, tmp_path):
    sipp("invite_403.xml", X, "13000000000", server, tmp_path)
    assert CallRecord.objects.count() == 0


def test_an_unbound_number_is_not_found(bound, server, tmp_path):
    sipp("invite_404.xml", UNBOUND, B, server, tmp_path)
    assert CallRecord.objects.count() == 0


def test_a_closed_ticket_is_not_found(bound, server, tmp_path):
    ticket = bound.ticket
    ticket.__class__.objects.filter(pk=ticket.pk).update(status="closed")
    sipp("invite_404.xml", X, B, server, tmp_path)


def test_options_keep_alive(bound, server, tmp_path):
    sipp("options_200.xml", "ping", "switch", server, tmp_path)
