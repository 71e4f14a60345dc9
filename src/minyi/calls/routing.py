"""Where a call to a virtual number goes, and when a binding ends. Pure: no database.

A binding ties requester A and handler B to virtual number X until it expires or ends. A call
to X from B goes to A, a call to X from A goes to B; anything else is refused. The SIP
redirect server (`minyi.calls.sip`) answers with these decisions; the table tests read them
row by row (tests/test_calls_routing.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from minyi.calls.numbers import normalise_number

#: SIP statuses of the decisions (RFC 3261 21.3.3, 21.4.4, 21.4.5).
REDIRECT, FORBIDDEN, NOT_FOUND = 302, 403, 404

B_TO_A, A_TO_B = "b_to_a", "a_to_b"


@dataclass(frozen=True)
class BindingView:
    """What routing needs to know of a binding (numbers in national form, see `normalise_number`)."""

    id: int
    number: str  # X
    party_a: str  # the requester
    party_b: str  # the handler
    expires_at: dt.datetime
    active: bool = True


class Route(NamedTuple):
    status: int  # 302, 403 or 404
    target: str  # the number to redirect to (302 only), else ""
    binding_id: int | None = None
    direction: str = ""  # b_to_a (the handler calls) or a_to_b (the requester calls)


def live(binding: BindingView, now: dt.datetime) -> bool:
    return binding.active and binding.expires_at > now


def route(x: str, caller: str, now: dt.datetime, bindings: Iterable[BindingView]) -> Route:
    """The decision for a call from `caller` to virtual number `x` at `now`.

    404 when no live binding holds `x` (never bound, ended or expired); 403 when `x` is bound
    but the caller is neither party of a live binding on it (a withheld caller too); 302 to
    the other party otherwise. The AXB rule (no number is a party of two live bindings on the
    same X, see `actions.bind`) makes the match unique; should rows break it, the newest
    binding wins, so the most recent handler is reached.
    """
    x, caller = normalise_number(x), normalise_number(caller)
    on_x = sorted(
        (b for b in bindings if x and normalise_number(b.number) == x and live(b, now)),
        key=lambda b: b.id, reverse=True,
    )
    if not on_x:
        return Route(NOT_FOUND, "")
    if caller:
        for binding in on_x:
            if caller == binding.party_b:
                return Route(REDIRECT, binding.party_a, binding.id, B_TO_A)
            if caller == binding.party_a:
                return Route(REDIRECT, binding.party_b, binding.id, A_TO_B)
    return Route(FORBIDDEN, "")


# --- the end of a binding ----------------------------------------------------------------------

EXPIRED = "expired"
TICKET_CLOSED = "ticket_closed"
TICKET_MERGED = "ticket_merged"
UNIT_CHANGED = "unit_changed"


def end_reason(
    *, status: str, lead_unit_id: int | None, unit_id: int | None, expires_at: dt.datetime, now: dt.datetime
) -> str | None:
    """Why a live binding must end now, or None. The ticket's end comes first (closed, merged),
    then a ticket that went to another unit (the handler no longer holds it), then time."""
    if status == "closed":
        return TICKET_CLOSED
    if status == "merged":
        return TICKET_MERGED
    if lead_unit_id is None or lead_unit_id != unit_id:
        return UNIT_CHANGED
    if expires_at <= now:
        return EXPIRED
    return None


def conflicts(a: str, b: str, parties: Iterable[tuple[str, str]]) -> bool:
    """The AXB rule on one X: a new binding (A, B) may join X's live bindings only if neither A
    nor B is already a party of one of them, in either role. Then the caller's number alone
    tells which binding a call belongs to and where it goes."""
    new = {a, b}
    return any(new & {pa, pb} for pa, pb in parties)
