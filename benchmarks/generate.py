"""Time `minyi generate` and measure what it made against the seed's figures (PostgreSQL).

    .venv/bin/python benchmarks/generate.py                                  # 1,000,000 tickets
    .venv/bin/python benchmarks/generate.py --tickets 10000000 --database-url postgres://postgres@127.0.0.1:5432/minyi_bench10m
    .venv/bin/python benchmarks/generate.py --figures-only --database-url …  # measure a database already filled

Creates the database if it is absent (its name must contain "bench": with --reset the
generated tickets are removed first), migrates it, runs the generator and prints the wall time
of each phase, rows per second, the database's size, and the figures: state mix, direct
answers, on-time rate, average handling days, response, satisfaction and redo rates. The goal
is 10 million tickets in under 15 minutes, i.e. at least 11,111 tickets per second overall;
exit status 1 if a run of a million tickets or more misses it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import machine  # benchmarks/machine.py: the line describing this machine

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/minyi_bench_gen"
GOAL_TICKETS_PER_SECOND = 10_000_000 / (15 * 60)

FIGURES_SQL = """
SELECT
  count(*) AS tickets,
  avg((status = 'closed' AND dispatched_at IS NULL AND replied_at IS NOT NULL)::int) AS direct_answer_rate,
  avg((requester_kind = 'enterprise')::int) AS enterprise_share,
  avg((status = 'closed' AND dispatched_at IS NULL)::int) FILTER (WHERE requester_kind = 'enterprise')
    AS enterprise_direct_rate,
  avg((replied_at <= due_at)::int) FILTER (WHERE dispatched_at IS NOT NULL AND replied_at IS NOT NULL) AS on_time_rate,
  avg(extract(epoch FROM replied_at - dispatched_at) / 86400)
    FILTER (WHERE dispatched_at IS NOT NULL AND replied_at IS NOT NULL) AS average_handling_days,
  avg((NOT signed_late)::int) FILTER (WHERE signed_at IS NOT NULL) AS response_rate,
  avg(anonymous::int) AS anonymous_share
FROM tickets_ticket
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=1095)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--workers", type=int, help="worker processes (default: the command's)")
    parser.add_argument("--reset", action="store_true", help="remove the generated tickets first")
    parser.add_argument("--vacuum", action="store_true", help="VACUUM (ANALYZE) after the load")
    parser.add_argument("--figures-only", action="store_true", help="generate nothing, measure the database")
    return parser.parse_args()


def setup(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql") or "bench" not in name:
        sys.exit(f"refusing {url}: a PostgreSQL database whose name contains 'bench' is needed")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "minyi.settings"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret")
    os.environ.setdefault("MINYI_DATA_KEYS", "bench:YmVuY2htYXJrLW9ubHktZGF0YS1rZXktMzItYnl0ZXM=")
    os.environ.setdefault("MINYI_DATA_DIR", tempfile.mkdtemp(prefix="minyi-bench-"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def figures() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(FIGURES_SQL)
        row = cursor.fetchone()
        names = [c.name for c in cursor.description]
        cursor.execute("SELECT status, count(*) FROM tickets_ticket GROUP BY 1 ORDER BY 2 DESC")
        states = cursor.fetchall()
        cursor.execute(
            "SELECT avg((rating IN ('satisfied', 'basically_satisfied'))::int), count(*) FROM tickets_ticketrating"
        )
        satisfaction, ratings = cursor.fetchone()
        cursor.execute("SELECT count(*) FILTER (WHERE decision = 'redo') FROM feedback_ratingreview")
        redos = cursor.fetchone()[0]
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE status = 'open') FROM supervision_supervisionorder")
        orders, open_orders = cursor.fetchone()
    values = dict(zip(names, row, strict=True))
    total = values.pop("tickets")
    if not total:
        print("no tickets")
        return
    print(f"tickets: {total:,}; by state: " + ", ".join(f"{s} {n:,} ({n / total:.2%})" for s, n in states))
    for name, value in values.items():
        text = "—" if value is None else f"{value:.2f}" if name.endswith("days") else f"{value:.2%}"
        print(f"  {name.replace('_', ' ')}: {text}")
    if ratings:
        print(f"  satisfaction rate: {satisfaction:.2%} of {ratings:,} ratings; redos {redos:,} ({redos / ratings:.2%})")
    print(f"  supervision orders: {orders:,} ({open_orders:,} open)")


def main() -> None:
    args = parse_args()
    print(machine.describe())
    setup(args.database_url)
    from minyi.generate import runner, store

    if args.figures_only:
        figures()
        return
    if args.reset:
        began = time.perf_counter()
        print(f"removed {store.reset():,} generated tickets in {time.perf_counter() - began:.1f} s")
    summary = runner.run(runner.Options(tickets=args.tickets, days=args.days, seed=args.seed, workers=args.workers,
                                        vacuum=args.vacuum))
    load, total = summary.seconds["load"], summary.seconds["total"]
    print(f"{summary.tickets:,} tickets, {summary.total_rows:,} rows: " + ", ".join(f"{k} {v:,}" for k, v in summary.rows.items()))
    print("wall time: " + ", ".join(f"{k} {v:,.1f} s" for k, v in summary.seconds.items()))
    print(f"load: {summary.total_rows / load:,.0f} rows/s, {summary.tickets / load:,.0f} tickets/s "
          f"({summary.workers} workers; rendering {summary.busy['render']:,.1f} s, writing {summary.busy['write']:,.1f} s "
          "summed over them)")
    print(f"overall: {summary.tickets / total:,.0f} tickets/s")
    if summary.database_bytes is not None:
        print(f"database: {summary.database_bytes / 1024**3:,.2f} GB; " + ", ".join(
            f"{k} {v / 1024**3:,.2f} GB" for k, v in summary.table_bytes.items() if v > 2**26))
    figures()
    if summary.tickets < 1_000_000:  # fixed costs (organisation, sealed pools) dominate smaller runs
        return
    ok = summary.tickets / total >= GOAL_TICKETS_PER_SECOND
    print(f"goal ≥ {GOAL_TICKETS_PER_SECOND:,.0f} tickets/s overall (10 million in 15 minutes): {'met' if ok else 'NOT met'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
