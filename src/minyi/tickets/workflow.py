"""The ticket workflow as a pure table: states, transitions and who may take each.

Nothing here touches the database. `actions.py` enforces the table (and unit scope, through
`access.py`); tests read it row by row.
"""

from __future__ import annotations

from dataclasses import dataclass

from minyi.org.actors import REQUESTER, SYSTEM
from minyi.org.models import Role
from minyi.tickets.choices import Rating, Status

PUBLIC = "public"


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    targets: tuple[str, ...]  # the first is the usual target (see `target_for`); none: unchanged
    roles: frozenset[str]
    #: True when a unit role may take it only on its own unit's ticket.
    unit_scoped: bool = False
    #: True when a unit role may take it only as an assisting unit (协办) of the ticket.
    assisting_scoped: bool = False


def _t(name, sources, targets, roles, unit_scoped=False, assisting_scoped=False) -> Transition:
    return Transition(
        name, frozenset(sources), tuple(targets), frozenset(roles), unit_scoped, assisting_scoped
    )


S = Status
R = Role

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        # Intake: an agent on the hotline, or the requester through the public channels.
        _t("submit", [""], [S.SUBMITTED], [R.INTAKE_AGENT, R.DISPATCHER, PUBLIC]),
        # The platform answers a consultation from the knowledge base and closes it.
        _t("direct_answer", [S.SUBMITTED], [S.CLOSED], [R.INTAKE_AGENT, R.DISPATCHER]),
        # The system dispatches at intake when a routing rule names the unit (MINYI_AUTO_DISPATCH).
        _t("dispatch", [S.SUBMITTED, S.RETURNED], [S.DISPATCHED], [R.DISPATCHER, SYSTEM]),
        # Arbitration: the dispatcher rejects a return and force-dispatches to the same unit.
        _t("arbitrate", [S.RETURNED], [S.DISPATCHED], [R.DISPATCHER]),
        # A duplicate not yet at a unit goes into another open ticket (合并); its requester
        # follows the other ticket's handling through their own number.
        _t("merge", [S.SUBMITTED, S.RETURNED], [S.MERGED], [R.INTAKE_AGENT, R.DISPATCHER]),
        _t("sign", [S.DISPATCHED], [S.IN_PROGRESS], [R.HANDLER, R.UNIT_LEADER], unit_scoped=True),
        _t("return", [S.DISPATCHED], [S.RETURNED], [R.HANDLER, R.UNIT_LEADER], unit_scoped=True),
        # Co-handling (协办): an assisting unit adds its input for the lead unit.
        _t(
            "assist_input", [S.DISPATCHED, S.IN_PROGRESS], [], [R.HANDLER, R.UNIT_LEADER],
            assisting_scoped=True,
        ),
        # A reply reaches the requester at once, or under escalated handling (提级办理, after a
        # redo) waits for the unit leader's approval unless the leader writes it.
        _t(
            "reply", [S.IN_PROGRESS], [S.REPLIED, S.PENDING_APPROVAL], [R.HANDLER, R.UNIT_LEADER],
            unit_scoped=True,
        ),
        _t("approve_reply", [S.PENDING_APPROVAL], [S.REPLIED], [R.UNIT_LEADER], unit_scoped=True),
        _t("reject_reply", [S.PENDING_APPROVAL], [S.IN_PROGRESS], [R.UNIT_LEADER], unit_scoped=True),
        # The requester rates online; platform staff record a rating from a return visit (回访).
        _t(
            "rate",
            [S.REPLIED],
            [S.CLOSED, S.UNDER_REVIEW],
            [REQUESTER, R.INTAKE_AGENT, R.SUPERVISOR],
        ),
        # Review of a dissatisfied rating: reasonable → redo by the same unit with a shorter
        # deadline and escalated handling (不满意重办); not reasonable → closed with an explanation.
        _t("review", [S.UNDER_REVIEW], [S.IN_PROGRESS, S.CLOSED], [R.SUPERVISOR, R.DISPATCHER]),
        # Closing without a rating: the rating window ran out (the job), or staff close it.
        _t("close", [S.REPLIED, S.UNDER_REVIEW], [S.CLOSED], [R.DISPATCHER, R.SUPERVISOR, SYSTEM]),
        # Quality screening: a supervisor confirms a flagged reply still awaiting its rating; the
        # unit must reply anew. (A closed ticket stays closed: its finding gets a quality order.)
        _t("require_new_reply", [S.REPLIED], [S.IN_PROGRESS], [R.SUPERVISOR]),
        # Acts that keep the state (no target): time limits while the unit handles the ticket.
        _t("request_extension", [S.IN_PROGRESS], [], [R.HANDLER, R.UNIT_LEADER], unit_scoped=True),
        _t("decide_extension", [S.IN_PROGRESS], [], [R.SUPERVISOR]),
        _t("file_plan", [S.IN_PROGRESS], [], [R.HANDLER, R.UNIT_LEADER], unit_scoped=True),
        _t("decide_plan", [S.IN_PROGRESS], [], [R.SUPERVISOR]),
        _t("record_milestone", [S.IN_PROGRESS], [], [R.HANDLER, R.UNIT_LEADER], unit_scoped=True),
    ]
}

#: The order in which actions are offered on a page.
ORDER = tuple(TRANSITIONS)


def target_for(
    name: str, rating: str | None = None, current: str = "", *, needs_approval: bool = False,
    redo: bool = False,
) -> str:
    """The state a transition leads to. A dissatisfied rating goes to review, others close; a
    reply under escalated handling waits for approval; a review redoes or closes. An act
    without targets leaves the state as it is (`current`)."""
    transition = TRANSITIONS[name]
    if name == "rate":
        return Status.UNDER_REVIEW if rating == Rating.DISSATISFIED else Status.CLOSED
    if name == "reply":
        return Status.PENDING_APPROVAL if needs_approval else Status.REPLIED
    if name == "review":
        return Status.IN_PROGRESS if redo else Status.CLOSED
    return transition.targets[0] if transition.targets else current


def role_for(name: str, roles: frozenset[str] | set[str]) -> str | None:
    """The role under which someone holding `roles` may take the transition, or None.

    When several of a person's roles qualify, the alphabetically first is recorded, so the
    recorded role is stable.
    """
    allowed = TRANSITIONS[name].roles
    for role in sorted(allowed):
        if role in roles:
            return role
    return None


def state_allows(name: str, status: str) -> bool:
    return status in TRANSITIONS[name].sources


def available(status: str, roles: frozenset[str] | set[str]) -> list[str]:
    """Transitions that someone with `roles` may take from `status` (before unit scope)."""
    return [
        name
        for name in ORDER
        if state_allows(name, status) and role_for(name, roles) is not None
    ]
