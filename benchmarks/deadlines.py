"""How many deadlines per second `minyi.sla.policies.count_deadline` computes on a
`WorkCalendar`, for random receipt times (2024-2027) and request types.

    .venv/bin/python benchmarks/deadlines.py [--n 1000000] [--repeat 3] [--seed 1]

Pure Python, no database. The calendar has the holiday notices of 2024-2026 loaded as
overrides when ../shared/datasets/holidays is present (the package's otherwise) and a
made-up notice for 2027, like a production calendar in late 2026. Prints the best of
`--repeat` runs; the goal is at least 200,000 deadlines per second.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from minyi.sla.calendar import WorkCalendar  # noqa: E402
from minyi.sla.policies import SHANGHAI, TIME_LIMIT_DAYS, count_deadline, end_of_day  # noqa: E402

DATASET = Path(__file__).resolve().parents[2] / "shared/datasets/holidays/holiday_cn_2024_2026.csv"
TYPE_WEIGHTS = {"consultation": 35, "complaint": 30, "help": 20, "suggestion": 8, "report": 7}
NOTICE_2027 = {dt.date(2027, 1, 1): False, dt.date(2027, 2, 6): True, dt.date(2027, 10, 1): False}
GOAL = 200_000


def calendar() -> tuple[WorkCalendar, str]:
    overrides = dict(NOTICE_2027)
    years = {2027}
    source = "chinesecalendar 2024-2026"
    if DATASET.exists():
        with DATASET.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                overrides[dt.date.fromisoformat(row["date"])] = row["isOffDay"] != "True"
        years |= {2024, 2025, 2026}
        source = f"{DATASET.name} 2024-2026"
    return WorkCalendar(overrides, years, last_year=2032), f"{source} + a 2027 notice"


def workload(n: int, seed: int) -> list[tuple[dt.datetime, int]]:
    """(received_at in UTC, as read from the database; working days) pairs."""
    rnd = random.Random(seed)
    start = dt.datetime(2024, 1, 1, tzinfo=SHANGHAI).timestamp()
    end = dt.datetime(2027, 12, 31, 23, 59, tzinfo=SHANGHAI).timestamp()
    types = rnd.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()), k=n)
    return [
        (dt.datetime.fromtimestamp(rnd.uniform(start, end), dt.UTC), TIME_LIMIT_DAYS[kind])
        for kind in types
    ]


def run(cal: WorkCalendar, items: list[tuple[dt.datetime, int]]) -> float:
    began = time.perf_counter()
    for received_at, days in items:
        count_deadline(received_at, days, cal)
    return time.perf_counter() - began


def by_dates(cal: WorkCalendar, received_at: dt.datetime, days: int) -> tuple[dt.datetime, bool]:
    """The same rule step by step on dates (the reference the fast path must match)."""
    day = received_at.astimezone(SHANGHAI).date()
    last = cal.add_working_days(day, days)
    return end_of_day(last), cal.provisional(day, last)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="deadlines per run (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best counts (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    began = time.perf_counter()
    cal, source = calendar()
    built = time.perf_counter() - began
    items = workload(args.n, args.seed)
    sample = items[:: max(1, len(items) // 20_000)]
    wrong = sum(tuple(count_deadline(r, n, cal)) != by_dates(cal, r, n) for r, n in sample)

    best = min(run(cal, items) for _ in range(args.repeat))
    began = time.perf_counter()
    for received_at, days in sample:
        by_dates(cal, received_at, days)
    plain = len(sample) / (time.perf_counter() - began)
    rate = args.n / best
    print(f"calendar: {source}, {cal.first_year}-{cal.last_year}, built in {built * 1000:.1f} ms")
    print(f"workload: {args.n:,} receipt times 2024-2027, types weighted {TYPE_WEIGHTS}")
    print(f"count_deadline: {rate:,.0f} deadlines/s ({best / args.n * 1e6:.2f} µs each, best of {args.repeat})")
    print(f"step by step on dates (reference): {plain:,.0f} deadlines/s")
    print(f"checked against the reference: {len(sample):,} deadlines, {wrong} different")
    print(f"goal >= {GOAL:,}/s: {'met' if rate >= GOAL and not wrong else 'NOT met'}")
    sys.exit(0 if rate >= GOAL and not wrong else 1)


if __name__ == "__main__":
    main()
