"""The SIP redirect server's transaction behaviour over real UDP, with a routing function in place
of the database: retransmissions, the ACK, CANCEL, other methods, malformed requests, peers."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time

import pytest

from minyi.calls.routing import Route
from minyi.calls.sip import ServerThread

X, A, B = "075588880001", "13800138000", "13912345678"


class Router:
    def __init__(self):
        self.calls: list[tuple[str, str]] = []
        self.recorded: list[tuple[Route, str]] = []
        self.delay = 0.0
        self.fail = False
        self.gate = threading.Event()
        self.gate.set()

    def resolve(self, x: str, caller: str) -> Route:
        self.calls.append((x, caller))
        self.gate.wait(5)
        if self.fail:
            raise RuntimeError("database down")
        if x != X:
            return Route(404, "")
        return Route(302, A, 7, "b_to_a") if caller == B else Route(403, "")

    def record(self, found: Route, call_id: str) -> None:
        self.recorded.append((found, call_id))


@pytest.fixture
def router():
    return Router()


@pytest.fixture
def server(router):
    thread = ServerThread("127.0.0.1", 0, resolve=router.resolve, record=router.record, gateway="gw.example.org")
    port = thread.start()
    yield port
    router.gate.set()
    thread.stop()


@pytest.fixture
def peer():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    yield sock
    sock.close()


def request(method: str, port: int, peer: socket.socket, *, to: str = X, caller: str = B, branch: str = "z9hG4bK-t1",
            cseq: int = 1, extra: str = "", call_id: str = "call-1@test") -> bytes:
    local = peer.getsockname()[1]
    return (
        f"{method} sip:{to}@127.0.0.1:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch={branch}\r\n"
        f"From: <sip:{caller}@127.0.0.1:{local}>;tag=from1\r\n"
        f"To: <sip:{to}@127.0.0.1:{port}>\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} {method}\r\n"
        f"Max-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n"
    ).encode()


def answer(peer: socket.socket) -> str:
    data, _addr = peer.recvfrom(65535)
    return data.decode()


def answers_within(peer: socket.socket, seconds: float) -> list[str]:
    deadline = time.monotonic() + seconds
    found = []
    while (left := deadline - time.monotonic()) > 0:
        peer.settimeout(left)
        try:
            found.append(answer(peer))
        except TimeoutError:
            break
    return found


def status(text: str) -> int:
    return int(text.split(" ", 2)[1])


def header(text: str, name: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in text.split("\r\n") if line.lower().startswith(name.lower() + ":"))


def test_a_redirect_and_its_ack(server, peer, router):
    peer.sendto(request("INVITE", server, peer), ("127.0.0.1", server))
    first = answer(peer)
    assert status(first) == 302
    assert header(first, "Contact") == f"<sip:{A}@gw.example.org>"
    assert header(first, "CSeq") == "1 INVITE"
    peer.sendto(request("ACK", server, peer), ("127.0.0.1", server))
    # Acknowledged: retransmissions stop (unacknowledged, two would come within 2 s: at 0.5 and
    # 1.5 s; one may have left before the ACK arrived on a busy machine).
    assert len(answers_within(peer, 2.0)) <= 1
    assert router.recorded == [(Route(302, A, 7, "b_to_a"), "call-1@test")]


def test_the_answer_is_retransmitted_until_the_ack(server, peer):
    peer.sendto(request("INVITE", server, peer), ("127.0.0.1", server))
    first = answer(peer)
    again = answers_within(peer, 2.0)  # timer G: after 0.5 s, then 1 s later
    assert again[:2] == [first, first]


def test_a_retransmitted_invite_gets_the_same_answer_and_is_routed_once(server, peer, router):
    peer.sendto(request("INVITE", server, peer), ("127.0.0.1", server))
    first = answer(peer)
    peer.sendto(request("INVITE", server, peer), ("127.0.0.1", server))
    assert answer(peer) == first  # same To tag
    assert len(router.calls) == 1
    time.sleep(0.1)
    assert len(router.recorded) == 1


@pytest.mark.parametrize(
    ("to", "caller", "expected"), [(X, "13000000000", 403), ("075588880009", B, 404)]
)
def test_refusals(server, peer, router, to, caller, expected):
    peer.sendto(request("INVITE", server, peer, to=to, caller=caller), ("127.0.0.1", server))
    text = answer(peer)
    assert status(text) == expected
    assert ";tag=" in header(text, "To")
    assert "Contact" not in text
    time.sleep(0.1)
    assert router.recorded == []


def test_the_switch_asserted_identity_wins_over_from(server, peer):
    extra = f"P-Asserted-Identity: <sip:{B}@switch>\r\n"
    peer.sendto(request("INVITE", server, peer, caller="anonymous", extra=extra), ("127.0.0.1", server))
    assert status(answer(peer)) == 302


def test_options_and_other_methods(server, peer):
    peer.sendto(request("OPTIONS", server, peer, branch="z9hG4bK-o"), ("127.0.0.1", server))
    ok = answer(peer)
    assert status(ok) == 200 and header(ok, "Allow") == "INVITE, ACK, CANCEL, OPTIONS"
    for method in ("BYE", "REGISTER", "MESSAGE"):
        peer.sendto(request(method, server, peer, branch=f"z9hG4bK-{method}"), ("127.0.0.1", server))
        refused = answer(peer)
        assert status(refused) == 405, method
        assert header(refused, "Allow") == "INVITE, ACK, CANCEL, OPTIONS"


def test_cancel(server, peer, router):
    peer.sendto(request("CANCEL", server, peer, branch="z9hG4bK-none"), ("127.0.0.1", server))
    assert status(answer(peer)) == 481  # no such INVITE
    router.gate.clear()  # the lookup hangs: the INVITE is still pending when the CANCEL comes
    peer.sendto(request("INVITE", server, peer), ("127.0.0.1", server))
    time.sleep(0.2)
    peer.sendto(request("CANCEL", server, peer), ("127.0.0.1", server))
    assert status(answer(peer)) == 200
    router.gate.set()
    assert status(answer(peer)) == 487
    time.sleep(0.1)
    assert router.recorded == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [("Require: 100rel\r\n", 420)],
)
def test_unsupported_extensions(server, peer, extra, expected):
    peer.sendto(request("INVITE", server, peer, extra=extra), ("127.0.0.1", server))
    text = answer(peer)
    assert status(text) == expected
    assert header(text, "Unsupported") == "100rel"


def test_malformed_and_unsupported_uris(server, peer):
    bad = request("INVITE", server, peer).replace(b"Call-ID: call-1@test\r\n", b"")
    peer.sendto(bad, ("127.0.0.1", server))
    assert status(answer(peer)) == 400
    odd = request("INVITE", server, peer, branch="z9hG4bK-u").replace(b"INVITE sip:", b"INVITE mailto:", 1)
    peer.sendto(odd, ("127.0.0.1", server))
    assert status(answer(peer)) == 416
    peer.sendto(b"SIP/2.0 200 OK\r\n\r\n", ("127.0.0.1", server))  # a stray response: ignored
    peer.sendto(b"\r\n\r\n", ("127.0.0.1", server))  # a keep-alive: ignored
    peer.settimeout(0.3)
    with pytest.raises(TimeoutError):
        answer(peer)


def test_a_failing_lookup_is_a_500_with_retry_after(server, peer, router):
    router.fail = True
    peer.sendto(request("INVITE", server, peer), ("127.0.0.1", server))
    text = answer(peer)
    assert status(text) == 500
    assert header(text, "Retry-After") == "5"


def test_peers_not_allowed_get_no_answer(router, peer):
    thread = ServerThread(
        "127.0.0.1", 0, resolve=router.resolve, record=router.record,
        allowed=[ipaddress.ip_network("192.0.2.0/24")],
    )
    port = thread.start()
    try:
        peer.sendto(request("INVITE", port, peer), ("127.0.0.1", port))
        peer.settimeout(0.5)
        with pytest.raises(TimeoutError):
            answer(peer)
        assert router.calls == []
    finally:
        thread.stop()


def test_timer_h_ends_the_transaction(server, peer, router, monkeypatch):
    import minyi.calls.sip as sip

    monkeypatch.setattr(sip, "TIMER_H", 1.2)
    peer.sendto(request("INVITE", server, peer), ("127.0.0.1", server))
    # The answer, its retransmission at 0.5 s, and none at 1.5 s: the transaction ended at 1.2 s.
    assert len(answers_within(peer, 3.0)) == 2
    peer.sendto(request("INVITE", server, peer), ("127.0.0.1", server))  # now a new transaction
    assert status(answer(peer)) == 302
    assert len(router.calls) == 2
