"""Reading at scale: a unit's worklist, a ticket page with its timeline, and the city's monthly
measures, on a PostgreSQL database filled by `minyi generate` (10 million tickets for the
issue's figures). Each call goes through Django's full request path (middleware, auth, view,
serialisation) in this process; prints p50 and p95 per call.

    .venv/bin/python benchmarks/reading.py                          # minyi_bench10m
    .venv/bin/python benchmarks/reading.py --samples 300 --database-url postgres://postgres@127.0.0.1:5432/minyi_bench10m

Goals: worklist p95 < 50 ms, ticket page p95 < 20 ms, monthly measures < 1 s. Redis
(`REDIS_URL`, default redis://127.0.0.1:6379/15) holds the cache and the sessions, as in production.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time

import machine  # benchmarks/machine.py: the line describing this machine

DATA_KEY = "bench:YmVuY2htYXJrLW9ubHktZGF0YS1rZXktMzItYnl0ZXM="
BENCH_SECRET = "benchmark-only"  # noqa: S105 (a throwaway benchmark database's key)


def setup(url: str) -> None:
    os.environ.update(
        DATABASE_URL=url, DJANGO_SETTINGS_MODULE="minyi.settings", SECRET_KEY=BENCH_SECRET,
        ALLOWED_HOSTS="testserver,127.0.0.1", LOG_LEVEL="WARNING", DB_CONN_MAX_AGE="600",
    )
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")  # as `minyi serve` runs: sessions in Redis
    os.environ.setdefault("MINYI_DATA_KEYS", DATA_KEY)
    os.environ.setdefault("MINYI_DATA_DIR", tempfile.mkdtemp(prefix="minyi-bench-read-"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # the pages use hashed static names


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def timed(call, samples: int, warm: int = 5) -> list[float]:
    for _ in range(warm):
        call()
    out = []
    for _ in range(samples):
        began = time.perf_counter()
        response = call()
        out.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.content[:300]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/minyi_bench10m"))
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    print(machine.describe())
    setup(args.database_url)

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models import Count
    from django.test import Client

    from minyi.api.auth import issue_token
    from minyi.org.models import Role, StaffProfile
    from minyi.tickets.choices import OPEN_STATUSES
    from minyi.tickets.models import Ticket

    total = Ticket.objects.count() if "--exact" in sys.argv else None
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'tickets_ticket'")
        estimate = cursor.fetchone()[0]
    print(f"database: {args.database_url.rsplit('/', 1)[1]}, about {total or estimate:,} tickets")

    # The busiest unit among the demo logins' units: its handler's worklist.
    users = get_user_model().objects
    busiest = (
        Ticket.objects.filter(status__in=OPEN_STATUSES, lead_unit__isnull=False)
        .values("lead_unit_id").annotate(n=Count("id")).order_by("-n").first()
    )
    assert busiest, "no open ticket at a unit: run `minyi generate` first"
    unit_id, open_count = busiest["lead_unit_id"], busiest["n"]
    handler = users.filter(staff_profile__unit_id=unit_id, groups__name=Role.HANDLER).first()
    if handler is None:
        handler = users.create_user(f"bench_handler_{unit_id}")
        handler.groups.add(*Group.objects.filter(name=Role.HANDLER))
        StaffProfile.objects.create(user=handler, unit_id=unit_id, display_name="基准承办人")
    leader = users.filter(groups__name=Role.CITY_LEADER).first() or users.filter(is_superuser=True).first()
    assert leader is not None, "no city leader login: run `minyi demo --tickets 0` on this database"
    client = Client()
    handler_token, _ = issue_token(handler)
    leader_token, _ = issue_token(leader)
    as_handler = {"HTTP_AUTHORIZATION": f"Bearer {handler_token}"}
    as_leader = {"HTTP_AUTHORIZATION": f"Bearer {leader_token}"}
    console = Client()
    console.force_login(handler)

    # As `minyi serve` does before forking its workers: what lives as long as the process is
    # kept out of the garbage collector's full passes.
    import gc

    gc.collect()
    gc.freeze()
    rng = random.Random(7)
    ids = list(Ticket.objects.filter(lead_unit_id=unit_id).order_by("-id").values_list("id", flat=True)[:5000])
    months = sorted({t.strftime("%Y-%m") for t in Ticket.objects.order_by("-id").values_list("created_at", flat=True)[:1]})
    month = months[-1]

    results = {
        f"worklist API (unit with {open_count:,} open tickets, time left)": timed(
            lambda: client.get("/api/v1/tickets", {"ordering": "time_left", "status": "dispatched,in_progress"}, **as_handler),
            args.samples),
        "worklist page (console)": timed(lambda: console.get("/console/"), args.samples),
        "ticket detail API": timed(lambda: client.get(f"/api/v1/tickets/{rng.choice(ids)}", **as_handler), args.samples),
        "ticket timeline API": timed(lambda: client.get(f"/api/v1/tickets/{rng.choice(ids)}/events", **as_handler), args.samples),
        "ticket page (console)": timed(lambda: console.get(f"/console/tickets/{rng.choice(ids)}/"), args.samples),
        f"monthly measures {month} (city)": timed(
            lambda: client.get("/api/v1/insights/kpis", {"month": month}, **as_leader), max(5, args.samples // 20), warm=1),
    }
    goals = {"worklist API": 50, "worklist page": 50, "ticket detail": 20, "ticket timeline": 20, "ticket page": 20,
             "monthly": 1000}
    failed = False
    for name, samples in results.items():
        p50, p95 = percentiles(samples)
        goal = next(v for k, v in goals.items() if name.startswith(k))
        ok = p95 < goal
        failed |= not ok
        print(f"  {name:<62} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   (goal p95 < {goal} ms){'' if ok else '  MISSED'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
