"""`minyi sla scan`: one run of the deadline job (what the worker does every five minutes)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minyi.sla.jobs import ScanError, scan

LABELS = {
    "closed": "supervision orders closed (cause resolved)",
    "due_soon": "due-soon warnings",
    "overdue": "orders opened for overdue tickets",
    "milestones_missed": "orders opened for missed milestones",
    "escalated": "orders escalated",
}


class Command(BaseCommand):
    help = "Time limits: `scan` runs the deadline job once and prints what it did."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{scan}")
        sub.add_parser("scan", help="Run the deadline job once (idempotent).")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            counts = scan()
        except ScanError as exc:
            self.print(exc.counts)
            raise CommandError(f"{exc} (see the log)") from None
        self.print(counts)
        self.stdout.write(f"{time.monotonic() - started:.2f} s")

    def print(self, counts: dict[str, int]) -> None:
        for key, value in counts.items():
            self.stdout.write(f"{value:>8}  {LABELS.get(key, key)}")
