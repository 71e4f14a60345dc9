"""`minyi generate --tickets N`: add N realistic tickets with their whole history.

    minyi generate --tickets 10000000                 # ~3 years of history, PostgreSQL, COPY
    minyi generate --tickets 50000 --days 90          # SQLite works too (in-process inserts)
    minyi generate --reset --tickets 0 --no-input     # remove the generated tickets

The demo organisation and staff are loaded first if missing (as `minyi demo --tickets 0`).
Each run adds N tickets spread over the last `--days` days up to now (`--now` to fix it), with
numbers from the daily sequences; the same `--seed` on the same database gives the same
tickets (a second run adds different ones). Generated tickets carry no access code.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils.dateparse import parse_datetime

from minyi.generate import runner, store

SQLITE_LIMIT = 1_000_000


def _megabytes(value: int | None) -> str:
    return f"{value / 1024**3:,.2f} GB" if value is not None else "—"


class Command(BaseCommand):
    help = "Fill the database with N realistic tickets and their history (bulk: COPY on PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, required=True, help="How many tickets to add (0: none).")
        parser.add_argument("--days", type=int, default=1095,
                            help="Spread them over this many days up to now (default 1095, about 3 years).")
        parser.add_argument("--seed", type=int, default=12345, help="Random seed (default 12345).")
        parser.add_argument("--now", help="The moment the history ends (ISO 8601; default: now).")
        parser.add_argument("--workers", type=int,
                            help="Processes that render and COPY (PostgreSQL; default 2). 0: in this process.")
        parser.add_argument("--chunk", type=int, default=10_000, help="Tickets per transaction (default 10,000).")
        parser.add_argument("--indexes", choices=["auto", "keep", "drop"], default="auto",
                            help="Drop secondary indexes during the load and build them after "
                                 f"(auto: from {runner.DROP_INDEXES_FROM:,} tickets, when adding at least as many "
                                 "as there are).")
        parser.add_argument("--vacuum", action="store_true",
                            help="VACUUM (ANALYZE) the tables after the load (PostgreSQL; otherwise ANALYZE only).")
        parser.add_argument("--reset", action="store_true", help="Remove the generated tickets first.")
        parser.add_argument("--no-input", "--noinput", action="store_true", dest="no_input",
                            help="Do not ask before --reset.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options) -> None:
        count = options["tickets"]
        if count < 0:
            raise CommandError("--tickets must be 0 or more")
        now = None
        if options["now"]:
            now = parse_datetime(options["now"])
            if now is None or now.tzinfo is None:
                raise CommandError("--now: an ISO 8601 moment with its offset, e.g. 2026-11-30T10:00:00+08:00")
        postgres = connection.vendor == "postgresql"
        if not postgres and connection.vendor != "sqlite":
            raise CommandError(f"{connection.vendor} is not supported: PostgreSQL or SQLite")
        if not postgres and count > SQLITE_LIMIT:
            raise CommandError(
                f"SQLite writes row by row in this process: at most {SQLITE_LIMIT:,} tickets. "
                "Use PostgreSQL (DATABASE_URL=postgres://…) for more."
            )
        workers = options["workers"]
        if workers and not postgres:
            raise CommandError("--workers: worker processes write with COPY, PostgreSQL only")

        if options["reset"]:
            existing = store.generated_count()
            if existing and not options["no_input"]:
                answer = input(f"Remove {existing:,} generated tickets and their history? [y/N] ")
                if answer.strip().lower() not in ("y", "yes"):
                    raise CommandError("nothing removed")
            removed = store.reset(report=self.stdout.write)
            self.stdout.write(f"removed {removed:,} generated tickets")
        if not count:
            return

        summary = runner.run(
            runner.Options(
                tickets=count, days=options["days"], seed=options["seed"], now=now, workers=workers,
                chunk=max(100, options["chunk"]), indexes=options["indexes"], vacuum=options["vacuum"],
                progress=not options["no_progress"] and options["verbosity"] > 0,
            ),
            report=self.stdout.write,
        )
        self._report(summary)

    def _report(self, s: runner.Summary) -> None:
        load = s.seconds.get("load", 0.0)
        rows = ", ".join(f"{k} {v:,}" for k, v in s.rows.items())
        self.stdout.write(f"{s.tickets:,} tickets from {s.first_day} to {s.last_day} (seed {s.seed}): {rows}")
        self.stdout.write(
            f"load {load:,.1f} s ({s.total_rows / max(load, 1e-9):,.0f} rows/s, "
            f"{s.tickets / max(load, 1e-9):,.0f} tickets/s, {s.workers or 'no'} worker processes"
            f"{', foreign keys checked at the end of each chunk' if not s.checks_off else ''})"
        )
        parts = [f"{k} {v:,.1f} s" for k, v in s.seconds.items() if k != "load"]
        self.stdout.write("; ".join(parts) + f"; rendering {s.busy.get('render', 0):,.1f} s and writing "
                          f"{s.busy.get('write', 0):,.1f} s summed over workers")
        if s.database_bytes is not None:
            self.stdout.write(f"database size {_megabytes(s.database_bytes)}")
