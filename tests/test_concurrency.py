"""Two people act on one ticket at the same moment: exactly one wins, the other is told.

Needs PostgreSQL (row locks with `select_for_update`); run with
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/minyi .venv/bin/pytest -q`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.test import Client

from conftest import submission_data
from minyi.core.errors import Conflict
from minyi.tickets import actions
from minyi.tickets.models import Ticket, TicketEvent

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency tests need PostgreSQL: set DATABASE_URL=postgres://…",
    ),
    # Each thread commits on its own connection, so the test cannot run inside a transaction.
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _reference_data(transactional_db, reference_data):
    """Transactional tests run on a flushed database: restore what the migrations created."""


def race(*calls: Callable[[], object]) -> list[object]:
    """Run the calls in threads that start together; each result or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:  # the loser's refusal is the point of the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def test_two_people_sign_at_once(new_ticket, actors):
    ticket = new_ticket("dispatched")
    results = race(
        lambda: actions.sign(actors["handler"], ticket.pk),
        lambda: actions.sign(actors["leader"], ticket.pk),
    )
    wins = [r for r in results if isinstance(r, Ticket)]
    losses = [r for r in results if isinstance(r, Exception)]
    assert len(wins) == 1, results
    assert len(losses) == 1, results
    assert isinstance(losses[0], Conflict)
    assert losses[0].code == "invalid_state"
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    assert TicketEvent.objects.filter(ticket=ticket, kind="sign").count() == 1
    assert TicketEvent.objects.filter(ticket=ticket).count() == 3


def test_sign_and_return_at_once(new_ticket, actors):
    ticket = new_ticket("dispatched")
    results = race(
        lambda: actions.sign(actors["handler"], ticket.pk),
        lambda: actions.return_ticket(actors["leader"], ticket.pk, reason_code="not_our_remit", note="不属于本单位", legal_basis="《物业管理条例》第十二条"),
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Ticket"], results
    ticket.refresh_from_db()
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds[:2] == ["submit", "dispatch"]
    assert len(kinds) == 3
    assert ticket.status == {"sign": "in_progress", "return": "returned"}[kinds[2]]


def test_two_api_requests_sign_at_once(new_ticket, token_for):
    ticket = new_ticket("dispatched")
    headers = [token_for("handler"), token_for("leader")]

    def post(h):
        return lambda: Client().post(
            f"/api/v1/tickets/{ticket.pk}/sign", {}, content_type="application/json", **h
        )

    responses = race(post(headers[0]), post(headers[1]))
    assert sorted(r.status_code for r in responses) == [200, 409], responses
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["code"] == "invalid_state"
    assert TicketEvent.objects.filter(ticket=ticket, kind="sign").count() == 1


def test_two_ratings_at_once(new_ticket):
    from minyi.org.actors import requester_actor

    ticket = new_ticket("replied")

    def rate(rating):
        return lambda: actions.rate(
            requester_actor(), None, rating=rating, number=ticket.number, code=ticket.access_code
        )

    results = race(rate("satisfied"), rate("dissatisfied"))
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Ticket"], results
    assert ticket.ratings.count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind="rate").count() == 1


def test_simultaneous_submissions_get_distinct_numbers(org):
    def submit():
        response = Client().post("/api/v1/tickets", submission_data(org), content_type="application/json")
        assert response.status_code == 201, response.content
        return response.json()["number"]

    numbers = race(*[submit for _ in range(6)])
    assert all(isinstance(n, str) for n in numbers), numbers
    day = numbers[0][:8]
    assert sorted(numbers) == [f"{day}-{i:06d}" for i in range(1, 7)]
