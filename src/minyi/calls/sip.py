"""The SIP redirect server: where a call to a virtual number goes (RFC 3261 over UDP).

A telephone switch (or the carrier's session border controller) sends an INVITE for virtual
number X (the Request-URI's user part) from a caller (the From's user part, or the
P-Asserted-Identity the switch asserts, RFC 3325). The server answers at once:

- ``302 Moved Temporarily`` with ``Contact: <sip:TARGET@GATEWAY>``: the other party of the live
  binding (the switch then calls TARGET through GATEWAY, presenting X as the calling number);
- ``403 Forbidden``: X is bound, but not to this caller;
- ``404 Not Found``: no live binding holds X;
- ``200 OK`` to OPTIONS (a switch's keep-alive), ``405 Method Not Allowed`` to other methods;
  ACK is absorbed, CANCEL answered (200, or 481 with no such transaction).

It is a stateless-looking UAS with the few transaction rules UDP needs: a retransmitted request
gets the same response (same To tag), a final response to an INVITE is retransmitted (timer G)
until the ACK arrives or 32 s pass (timer H). Requests from addresses outside
MINYI_SIP_ALLOWED_PEERS are dropped unanswered, so strangers cannot ask which numbers are bound.
The database is read in a small pool of threads (`asyncio` stays responsive); the call's start
is recorded after the answer is sent, in one writer thread of its own, so writes neither wait
for each other in the database nor hold up lookups. Logs carry binding ids and statuses, never numbers.

`minyi sip --host 127.0.0.1 --port 5060` runs it (`make run` starts it beside the web server).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from typing import Any

from django.db import InterfaceError, OperationalError, close_old_connections, connections

from minyi.calls import conf
from minyi.calls.routing import REDIRECT, Route

log = logging.getLogger(__name__)

CRLF = "\r\n"
ALLOW = "INVITE, ACK, CANCEL, OPTIONS"
REASONS = {
    100: "Trying", 200: "OK", 302: "Moved Temporarily", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 416: "Unsupported URI Scheme", 420: "Bad Extension",
    481: "Call/Transaction Does Not Exist", 487: "Request Terminated", 500: "Server Internal Error",
}
#: Compact header names (RFC 3261 7.3.3) and the canonical spelling of the ones we write.
COMPACT = {
    "v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
    "c": "content-type", "k": "supported", "s": "subject", "e": "content-encoding",
}
REQUIRED = ("via", "from", "to", "call-id", "cseq")
T1, T2, TIMER_H = 0.5, 4.0, 32.0


# --- messages (pure) ---------------------------------------------------------------------------


@dataclass
class SipRequest:
    method: str
    uri: str
    headers: list[tuple[str, str]] = field(default_factory=list)  # (lower-case full name, value)

    def get(self, name: str) -> str:
        return next((value for key, value in self.headers if key == name), "")

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


def parse_request(data: bytes) -> SipRequest | None:
    """A SIP request, or None for responses, keep-alives and what is not SIP at all."""
    text = data.decode("utf-8", errors="replace").lstrip("\r\n")
    head = re.split(r"\r?\n\r?\n", text, maxsplit=1)[0]
    lines = re.split(r"\r?\n", head)
    start = lines[0].split(" ")
    if len(start) != 3 or start[2].upper() != "SIP/2.0" or not start[0].isalpha():
        return None
    request = SipRequest(start[0].upper(), start[1])
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and request.headers:  # folded continuation (RFC 3261 7.3.1)
            name, value = request.headers[-1]
            request.headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        request.headers.append((COMPACT.get(key, key), value.strip()))
    return request


def split_commas(value: str) -> list[str]:
    """Values of a header that lists several (Via, Require), split on commas outside quotes and <>."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for char in value:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth = max(0, depth - 1)
        if char == "," and not quoted and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def header_uri(value: str) -> str:
    """The URI in a From/To/P-Asserted-Identity value: inside <> or, without them, up to ';'."""
    match = re.search(r"<([^>]*)>", value)
    if match:
        return match.group(1).strip()
    return value.split(";", 1)[0].strip()


def header_param(value: str, name: str) -> str | None:
    """A header parameter (after the URI): `tag` of From/To, `branch` of Via."""
    rest = value[value.rindex(">") + 1:] if ">" in value else value.split(";", 1)[1] if ";" in value else ""
    for item in rest.split(";"):
        key, _sep, val = item.strip().partition("=")
        if key.lower() == name:
            return val.strip()
    return None


def uri_user(uri: str) -> tuple[str, str]:
    """(scheme, user) of a sip:, sips: or tel: URI: ``sip:4008@10.0.0.1;user=phone`` → ("sip", "4008")."""
    scheme, sep, rest = uri.strip().partition(":")
    scheme = scheme.lower()
    if not sep:
        return "", ""
    if scheme in ("sip", "sips"):
        user = rest.rsplit("@", 1)[0] if "@" in rest else ""
        user = user.split(":", 1)[0]  # user:password
    elif scheme == "tel":
        user = rest
    else:
        return scheme, ""
    return scheme, urllib.parse.unquote(user.split(";", 1)[0])


def stamp_via(via: str, ip: str, port: int) -> str:
    """The top Via of a response: `received` when the sender's address differs from its sent-by
    host, `rport` filled in when asked for (RFC 3261 18.2.1, RFC 3581)."""
    sent_by, *params = [p.strip() for p in via.split(";")]
    host = sent_by.split()[-1] if sent_by.split() else ""
    if host.startswith("["):
        host = host[1:host.find("]")]
    elif host.count(":") == 1:
        host = host.split(":")[0]
    out, rport = [sent_by], False
    for param in params:
        key = param.split("=", 1)[0].strip().lower()
        if key == "received":
            continue
        if key == "rport":
            out.append(f"rport={port}")
            rport = True
        else:
            out.append(param)
    if rport or host != ip:
        out.append(f"received={ip}")
    return ";".join(out)


def build_response(
    request: SipRequest, status: int, *, to_tag: str, source: tuple[str, int],
    headers: list[tuple[str, str]] | None = None,
) -> bytes:
    """A response echoing Via (all, the top one stamped), From, To (with our tag), Call-ID and
    CSeq, as RFC 3261 8.2.6.2 requires."""
    lines = [f"SIP/2.0 {status} {REASONS[status]}"]
    for index, value in enumerate(request.all("via")):
        if index == 0:
            values = split_commas(value)
            values[0] = stamp_via(values[0], source[0], source[1])
            value = ", ".join(values)
        lines.append(f"Via: {value}")
    to = request.get("to")
    if status > 100 and header_param(to, "tag") is None:
        to = f"{to};tag={to_tag}"
    lines += [f"From: {request.get('from')}", f"To: {to}", f"Call-ID: {request.get('call-id')}",
              f"CSeq: {request.get('cseq')}"]
    lines += [f"{name}: {value}" for name, value in headers or []]
    lines += ["Server: Minyi", "Content-Length: 0"]
    return (CRLF.join(lines) + CRLF + CRLF).encode()


def well_formed(request: SipRequest) -> bool:
    if not all(request.get(name) for name in REQUIRED):
        return False
    number, _sep, method = request.get("cseq").partition(" ")
    return number.strip().isdigit() and method.strip().upper() == request.method


def transaction_key(request: SipRequest) -> tuple[str, ...]:
    """Matches retransmissions, the ACK of a non-2xx final response, and a CANCEL, to the
    request (RFC 3261 17.2.3: the top Via's branch; the older Call-ID/CSeq/From-tag otherwise)."""
    top = split_commas(request.all("via")[0])[0] if request.all("via") else ""
    branch = header_param(top, "branch") or ""
    cseq = request.get("cseq").split(" ", 1)[0].strip()
    if branch.startswith("z9hG4bK"):
        return (branch, request.get("call-id"), cseq)
    return ("", request.get("call-id"), cseq, header_param(request.get("from"), "tag") or "")


# --- the server --------------------------------------------------------------------------------


@dataclass
class Transaction:
    response: bytes | None = None  # None while the answer is being looked up
    addr: tuple[str, int] | None = None
    cancelled: bool = False
    acked: bool = False
    timer: asyncio.TimerHandle | None = None
    until: float = 0.0  # the loop time when the transaction ends (timer H): no more retransmissions


class DatabaseThreads:
    """A few threads for the ORM (Django's database calls are synchronous), each keeping its
    connection between calls; `close` closes every thread's connection."""

    #: How often a thread lets Django replace an old or unhealthy connection (seconds). Between
    #: checks the connection is reused even where CONN_MAX_AGE is 0 (SQLite): reconnecting for
    #: every INVITE would cost more than the lookup.
    RECHECK = 10.0

    def __init__(self, workers: int = 4):
        self.workers = workers
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="minyi-sip-db")
        self.local = threading.local()

    def call(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future:
        def run() -> Any:
            now = time.monotonic()
            if now - getattr(self.local, "checked", -self.RECHECK) >= self.RECHECK:
                close_old_connections()
                self.local.checked = now
            try:
                return fn(*args)
            except (OperationalError, InterfaceError):
                # A connection lost meanwhile (the database restarted): once more on a new one.
                # Both the lookup and the recording of a call's start are safe to repeat.
                connections.close_all()
                return fn(*args)

        return asyncio.get_running_loop().run_in_executor(self.executor, run)

    def close(self) -> None:
        barrier = threading.Barrier(self.workers)

        def close_connection() -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=2)  # one task per thread
            connections.close_all()

        wait_futures([self.executor.submit(close_connection) for _ in range(self.workers)], timeout=10)
        self.executor.shutdown(wait=True)


class SipRedirectProtocol(asyncio.DatagramProtocol):
    def __init__(
        self,
        resolve: Callable[[str, str], Route],
        record: Callable[[Route, str], Any],
        *,
        database: DatabaseThreads,
        writer: DatabaseThreads | None = None,
        gateway: str = "",
        allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None = None,
    ):
        self.resolve, self.record, self.database = resolve, record, database
        self.writer = writer or database
        self.gateway = gateway
        self.allowed = allowed if allowed is not None else conf.sip_allowed_peers()
        self.transactions: dict[tuple[str, ...], Transaction] = {}
        self.tasks: set[asyncio.Task] = set()
        self.transport: asyncio.DatagramTransport | None = None
        self.timings: list[float] = []  # seconds from INVITE to answer, the latest 10,000

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def _allowed(self, ip: str) -> bool:
        try:
            address = ipaddress.ip_address(ip.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in network for network in self.allowed)

    def _send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)

    def _answer(self, key: tuple[str, ...], request: SipRequest, status: int, addr: tuple[str, int],
                headers: list[tuple[str, str]] | None = None) -> None:
        """Send a final response and keep it for retransmissions (and, for an INVITE, resend it
        until the ACK comes)."""
        name = key + (request.method,)
        txn = self.transactions.setdefault(name, Transaction())
        txn.response = build_response(request, status, to_tag=secrets.token_hex(6), source=addr, headers=headers)
        txn.addr = addr
        self._send(txn.response, addr)
        loop = asyncio.get_running_loop()
        txn.until = loop.time() + TIMER_H
        loop.call_later(TIMER_H, self._forget, name, txn)
        if request.method == "INVITE":
            txn.timer = loop.call_later(T1, self._retransmit, txn, T1)

    def _forget(self, name: tuple[str, ...], txn: Transaction) -> None:
        if self.transactions.get(name) is txn:
            del self.transactions[name]

    def _retransmit(self, txn: Transaction, interval: float) -> None:
        loop = asyncio.get_running_loop()
        if txn.acked or txn.response is None or txn.addr is None or loop.time() >= txn.until:
            return
        self._send(txn.response, txn.addr)
        interval = min(interval * 2, T2)
        txn.timer = loop.call_later(interval, self._retransmit, txn, interval)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
        addr = (addr[0], addr[1])
        if not self._allowed(addr[0]):
            log.debug("SIP: dropped a datagram from a peer not allowed")
            return
        request = parse_request(data)
        if request is None or not request.all("via"):
            return
        key = transaction_key(request)
        if request.method == "ACK":
            txn = self.transactions.get(key + ("INVITE",))
            if txn is not None:
                txn.acked = True
                if txn.timer is not None:
                    txn.timer.cancel()
            return
        known = self.transactions.get(key + (request.method,))
        if known is not None:  # a retransmission: the same answer, or none while looking it up
            if known.response is not None and known.addr is not None:
                self._send(known.response, known.addr)
            return
        if not well_formed(request):
            self._answer(key, request, 400, addr)
        elif request.method == "INVITE":
            pending = self.transactions[key + ("INVITE",)] = Transaction(addr=addr)
            loop = asyncio.get_running_loop()
            loop.call_later(TIMER_H, self._forget, key + ("INVITE",), pending)  # should the task die
            task = loop.create_task(self._invite(key, request, addr))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif request.method == "OPTIONS":
            self._answer(key, request, 200, addr, [("Allow", ALLOW), ("Accept", "application/sdp")])
        elif request.method == "CANCEL":
            invite = self.transactions.get(key + ("INVITE",))
            if invite is None:
                self._answer(key, request, 481, addr)
            else:
                invite.cancelled = True  # answered 487 if still being looked up
                self._answer(key, request, 200, addr)
        else:
            self._answer(key, request, 405, addr, [("Allow", ALLOW)])

    async def _invite(self, key: tuple[str, ...], request: SipRequest, addr: tuple[str, int]) -> None:
        started = time.perf_counter()
        scheme, x = uri_user(request.uri)
        identity = request.get("p-asserted-identity") or request.get("from")
        _scheme, caller = uri_user(header_uri(split_commas(identity)[0] if identity else ""))
        headers: list[tuple[str, str]] = []
        found: Route | None = None
        if scheme not in ("sip", "sips", "tel"):
            status = 416
        elif request.get("require"):
            status = 420
            headers = [("Unsupported", request.get("require"))]
        else:
            try:
                found = await self.database.call(self.resolve, x, caller)
                status = found.status
            except Exception:
                log.exception("SIP: the routing lookup failed")
                status, headers = 500, [("Retry-After", "5")]
        if self.transactions.get(key + ("INVITE",), Transaction()).cancelled:
            status, found, headers = 487, None, []
        if status == REDIRECT and found is not None:
            gateway = self.gateway or (f"[{addr[0]}]" if ":" in addr[0] else addr[0])
            headers = [("Contact", f"<sip:{found.target}@{gateway}>")]
        self._answer(key, request, status, addr, headers)
        elapsed = time.perf_counter() - started
        self.timings.append(elapsed)
        del self.timings[:-10000]
        log.info(
            "SIP INVITE -> %s%s in %.1f ms", status,
            f" (binding {found.binding_id}, {found.direction})" if status == REDIRECT and found else "", elapsed * 1000,
        )
        if status == REDIRECT and found is not None:
            try:
                await self.writer.call(self.record, found, request.get("call-id"))
            except Exception:
                log.exception("SIP: recording the call's start failed (binding %s)", found.binding_id)


class SipRedirectServer:
    """The UDP endpoint with its protocol; `start` binds, `close` stops and closes the database
    connections of its threads."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 5060, *,
        resolve: Callable[[str, str], Route] | None = None,
        record: Callable[[Route, str], Any] | None = None,
        gateway: str | None = None,
        allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None = None,
        workers: int = 4,
    ):
        from minyi.calls import actions  # the ORM is needed only once serving

        self.host, self.port = host, port
        self.database = DatabaseThreads(workers)
        self.writer = DatabaseThreads(1)
        self.protocol = SipRedirectProtocol(
            resolve or actions.resolve, record or actions.record_call_start, database=self.database,
            writer=self.writer, gateway=conf.sip_gateway() if gateway is None else gateway, allowed=allowed,
        )
        self.transport: asyncio.DatagramTransport | None = None

    async def start(self) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        self.transport, _protocol = await loop.create_datagram_endpoint(
            lambda: self.protocol, local_addr=(self.host, self.port),
        )
        sockname = self.transport.get_extra_info("sockname")
        self.port = sockname[1]
        return sockname[0], sockname[1]

    async def close(self) -> None:
        if self.protocol.tasks:
            await asyncio.wait(list(self.protocol.tasks), timeout=5)
        for txn in self.protocol.transactions.values():
            if txn.timer is not None:
                txn.timer.cancel()
        if self.transport is not None:
            self.transport.close()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.database.close)
        await loop.run_in_executor(None, self.writer.close)


class ServerThread:
    """The server on its own event loop in a thread (tests, benchmarks): `start()` returns the
    bound port, `stop()` ends it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **options: Any):
        self.server = SipRedirectServer(host, port, **options)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="minyi-sip", daemon=True)

    def start(self) -> int:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(timeout=10)
        return self.server.port

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
