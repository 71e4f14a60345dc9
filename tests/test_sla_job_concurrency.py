"""Two workers run the deadline job at the same moment: each thing happens exactly once.

Needs PostgreSQL (concurrent transactions against the partial unique indexes); run with
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/minyi .venv/bin/pytest -q`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction

from minyi.core import clock
from minyi.sla.jobs import scan
from minyi.sla.models import SlaAlert
from minyi.supervision.models import SupervisionOrder
from minyi.tickets.models import Notification, TicketEvent

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency tests need PostgreSQL: set DATABASE_URL=postgres://…",
    ),
    # Each thread commits on its own connection, so the test cannot run inside a transaction.
    pytest.mark.django_db(transaction=True),
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
OVERDUE, DUE_SOON = 12, 12


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _reference_data(transactional_db, reference_data):
    """Transactional tests run on a flushed database: restore what the migrations created
    (the supervision ladder among them)."""


@pytest.fixture
def tickets(new_ticket):
    """Consultations at the housing bureau: some due on Wednesday 4 March 2026 (overdue by
    Thursday), some due on Thursday 5 March (due soon on Thursday), one with a late order."""
    overdue, soon = [], []
    with clock.frozen_at(at("2026-03-02 10:00")):
        overdue = [new_ticket("in_progress", type="consultation") for _ in range(OVERDUE)]
    with clock.frozen_at(at("2026-03-03 10:00")):
        soon = [new_ticket("dispatched", type="consultation") for _ in range(DUE_SOON)]
    # An older run opened an order for the first overdue ticket, now past its own deadline.
    SupervisionOrder.objects.create(
        ticket=overdue[0], cause="overdue", unit=overdue[0].lead_unit, level=1,
        opened_at=at("2026-03-05 00:05"), due_at=at("2026-03-05 08:00"),
    )
    return overdue, soon


def race(*moments: dt.datetime) -> list[object]:
    """`scan` in one thread per moment, started together; each result or exception."""
    barrier = threading.Barrier(len(moments))
    results: list[object] = [None] * len(moments)

    def run(i: int, moment: dt.datetime) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = scan(moment)
        except Exception as exc:  # reported by the assertions below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, m)) for i, m in enumerate(moments)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return results


@pytest.mark.parametrize("apart", [dt.timedelta(0), dt.timedelta(microseconds=1)], ids=["same-moment", "apart"])
def test_two_workers_scan_at_once(tickets, users, apart):
    overdue, soon = tickets
    now = at("2026-03-05 09:00")
    results = race(now, now + apart)
    assert not [r for r in results if isinstance(r, Exception)], results
    # Between them, the two runs did each thing once.
    total = Counter()
    for result in results:
        total.update(result)
    assert dict(total) == {
        "closed": 0, "due_soon": DUE_SOON, "overdue": OVERDUE - 1, "milestones_missed": 0, "escalated": 1,
    }
    # Exactly one open order per overdue ticket, and one event each.
    open_orders = Counter(SupervisionOrder.objects.filter(status="open").values_list("ticket_id", flat=True))
    assert open_orders == {ticket.pk: 1 for ticket in overdue}
    opened = Counter(TicketEvent.objects.filter(kind="supervision_opened").values_list("ticket_id", flat=True))
    assert opened == {ticket.pk: 1 for ticket in overdue[1:]}
    escalated = list(TicketEvent.objects.filter(kind="supervision_escalated").values_list("ticket_id", flat=True))
    assert escalated == [overdue[0].pk]
    assert SupervisionOrder.objects.get(ticket=overdue[0]).level == 2
    # One alert and one warning per ticket due soon.
    assert Counter(SlaAlert.objects.values_list("ticket_id", flat=True)) == {ticket.pk: 1 for ticket in soon}
    warned = Counter(TicketEvent.objects.filter(kind="due_soon").values_list("ticket_id", flat=True))
    assert warned == {ticket.pk: 1 for ticket in soon}
    # The unit's handler and leader heard of each once.
    system_events = TicketEvent.objects.filter(actor_role="system").count()
    assert system_events == OVERDUE - 1 + 1 + DUE_SOON
    for user in (users["handler"], users["leader"]):
        assert Notification.objects.filter(user=user, event__actor_role="system").count() == system_events
    # And a third run afterwards finds nothing to do.
    assert scan(now + dt.timedelta(minutes=5)) == {
        "closed": 0, "due_soon": 0, "overdue": 0, "milestones_missed": 0, "escalated": 0,
    }


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_a_worker_that_found_the_same_candidates_inserts_nothing(tickets, users):
    """The hard interleaving, made certain: worker A has inserted everything but not yet
    committed when worker B looks, so B finds the same candidates and tries to insert them
    too. B waits on A's rows; once A commits, ON CONFLICT DO NOTHING skips them and B adds no
    order, alert, event or notification."""
    overdue, soon = tickets
    now = at("2026-03-05 09:00")
    inserted, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def worker_a() -> None:
        try:
            with transaction.atomic():
                results["a"] = scan(now)
                inserted.set()
                release.wait(timeout=30)
        except Exception as exc:
            results["a"] = exc
        finally:
            inserted.set()
            connections.close_all()

    def worker_b() -> None:
        try:
            inserted.wait(timeout=30)
            results["b"] = scan(now)
        except Exception as exc:
            results["b"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker_a), threading.Thread(target=worker_b)]
    for thread in threads:
        thread.start()
    waited = False
    for _ in range(200):  # B blocks on A's uncommitted rows
        if _someone_waits_for_a_lock():
            waited = True
            break
        time.sleep(0.05)
    release.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    assert waited, "worker B never waited for worker A's rows"
    assert results["a"] == {"closed": 0, "due_soon": DUE_SOON, "overdue": OVERDUE - 1, "milestones_missed": 0, "escalated": 1}
    assert results["b"] == {"closed": 0, "due_soon": 0, "overdue": 0, "milestones_missed": 0, "escalated": 0}
    assert SupervisionOrder.objects.filter(status="open").count() == OVERDUE
    assert SupervisionOrder.objects.get(ticket=overdue[0]).level == 2
    assert SlaAlert.objects.count() == DUE_SOON
    system_events = TicketEvent.objects.filter(actor_role="system").count()
    assert system_events == OVERDUE - 1 + 1 + DUE_SOON
    assert Notification.objects.filter(user=users["handler"], event__actor_role="system").count() == system_events
