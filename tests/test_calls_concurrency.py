"""Handlers press "call the requester" at the same moment: the AXB rule holds under races.

Needs PostgreSQL (row locks, SKIP LOCKED); run with
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/minyi .venv/bin/pytest -q tests/test_calls_concurrency.py`.
"""

from __future__ import annotations

import pytest
from django.db import connection

from minyi.calls import actions
from minyi.calls.models import Binding, HandlerLine, VirtualNumber
from minyi.core.errors import Conflict
from test_concurrency import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency tests need PostgreSQL: set DATABASE_URL=postgres://…",
    ),
    pytest.mark.django_db(transaction=True),
]

POOL = ["075588880001", "075588880002"]


@pytest.fixture(autouse=True)
def _reference_data(transactional_db, reference_data):
    """Transactional tests run on a flushed database: restore what the migrations created."""


@pytest.fixture
def lines(users):
    HandlerLine.objects.create(user=users["handler"], phone="13912345678")
    HandlerLine.objects.create(user=users["leader"], phone="13912340002")


def test_the_same_requester_bound_twice_at_once_gets_two_numbers(new_ticket, actors, lines):
    """Two tickets of one requester (two ticket locks): the numbers' row locks keep them apart."""
    for number in POOL:
        VirtualNumber.objects.create(number=number)
    first, second = new_ticket("in_progress"), new_ticket("in_progress")
    results = race(
        lambda: actions.bind(actors["handler"], first.pk),
        lambda: actions.bind(actors["leader"], second.pk),
    )
    assert all(isinstance(r, Binding) for r in results), results
    assert sorted(r.number.number for r in results) == POOL


def test_one_free_slot_goes_to_one_of_two(new_ticket, actors, lines):
    VirtualNumber.objects.create(number=POOL[0])
    first, second = new_ticket("in_progress"), new_ticket("in_progress")
    results = race(
        lambda: actions.bind(actors["handler"], first.pk),
        lambda: actions.bind(actors["leader"], second.pk),
    )
    assert sorted(type(r).__name__ for r in results) == ["Binding", "Conflict"], results
    loser = next(r for r in results if isinstance(r, Conflict))
    assert loser.code == "no_free_number"
    assert Binding.objects.filter(active=True).count() == 1


def test_disjoint_pairs_at_once_may_share_one_number(new_ticket, actors, lines):
    """The second waits for the first's lock on X, re-checks, and shares X (different A and B)."""
    VirtualNumber.objects.create(number=POOL[0])
    first = new_ticket("in_progress")
    second = new_ticket("in_progress", requester_phone="13700000002")
    results = race(
        lambda: actions.bind(actors["handler"], first.pk),
        lambda: actions.bind(actors["leader"], second.pk),
    )
    assert all(isinstance(r, Binding) for r in results), results
    assert {r.number.number for r in results} == {POOL[0]}


def test_a_double_press_binds_once(new_ticket, actors, lines):
    for number in POOL:
        VirtualNumber.objects.create(number=number)
    ticket = new_ticket("in_progress")
    results = race(
        lambda: actions.bind(actors["handler"], ticket.pk),
        lambda: actions.bind(actors["handler"], ticket.pk),
    )
    assert all(isinstance(r, Binding) for r in results), results
    assert results[0].pk == results[1].pk
    assert Binding.objects.count() == 1
