"""`minyi holidays import FILE [FILE...]` loads State Council holiday notices (holiday-cn CSV
or JSON); `minyi holidays list` shows which years are covered and which deadlines are
provisional."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Q

from minyi.core import clock
from minyi.core.errors import InvalidInput
from minyi.sla import holidays, services
from minyi.sla.calendar import PACKAGE_YEARS
from minyi.sla.models import HolidayNotice
from minyi.sla.policies import SHANGHAI
from minyi.tickets.choices import OPEN_STATUSES
from minyi.tickets.models import Ticket


def _years(years: list[int]) -> str:
    """2004–2026, 2028 (runs of consecutive years shortened)."""
    runs: list[list[int]] = []
    for year in sorted(years):
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs) or "none"


class Command(BaseCommand):
    help = "Load holiday notices (holiday-cn CSV or JSON) and show which years they cover."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{import,list}")
        load = sub.add_parser("import", help="Check every file, then load them all (or nothing).")
        load.add_argument("files", nargs="+", metavar="FILE", help="holiday-cn CSV or JSON files")
        show = sub.add_parser("list", help="Loaded notices, covered years, provisional deadlines.")
        show.add_argument("--limit", type=int, default=20, help="Provisional tickets to show (default 20).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "import":
            self.load(options["files"])
        else:
            self.show(options["limit"])

    def load(self, files: list[str]) -> None:
        try:
            notices = holidays.parse_files(files)
        except InvalidInput as exc:
            raise CommandError(f"{exc.message}\nNothing was imported.") from None
        result = holidays.load_notices(notices)
        for year, notice in notices.items():
            off = sum(day.is_off_day for day in notice.days)
            state = (
                "loaded" if year in result.created
                else "replaced" if year in result.replaced
                else "unchanged"
            )
            self.stdout.write(
                f"{year}: {state} ({off} days off, {len(notice.days) - off} make-up working days)"
            )
        self.stdout.write(f"Provisional deadlines re-counted: {result.recounted}")

    def show(self, limit: int) -> None:
        notices = HolidayNotice.objects.annotate(
            off=Count("days", filter=Q(days__is_off_day=True)),
            makeup=Count("days", filter=Q(days__is_off_day=False)),
        ).order_by("year")
        self.stdout.write("Loaded notices:")
        if not notices:
            self.stdout.write("  none")
        for notice in notices:
            loaded = notice.loaded_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(
                f"  {notice.year}: {notice.off} days off, {notice.makeup} make-up working days, "
                f"loaded {loaded}  {notice.source}"
            )
        loaded_years = {n.year for n in notices}
        self.stdout.write(f"Covered by the chinesecalendar package: {_years(sorted(PACKAGE_YEARS))}")
        self.stdout.write(
            f"Package years replaced by a loaded notice: {_years(sorted(loaded_years & PACKAGE_YEARS))}"
        )
        missing = services.missing_notice_years(clock.local_today())
        if missing:
            self.stdout.write(self.style.WARNING(
                f"No notice for {_years(missing)}: deadlines reaching into it count Monday to Friday "
                "and are provisional until the notice is imported."
            ))
        provisional = (
            Ticket.objects.filter(status__in=OPEN_STATUSES)
            .filter(Q(due_provisional=True) | Q(unit_due_provisional=True))
            .order_by("due_at", "pk")
        )
        total = provisional.count()
        self.stdout.write(f"Open tickets with a provisional deadline: {total}")
        for ticket in provisional[: max(limit, 0)]:
            parts = []
            if ticket.due_provisional:
                parts.append(f"requester's {ticket.due_at.astimezone(SHANGHAI):%Y-%m-%d}")
            if ticket.unit_due_provisional and ticket.unit_due_at:
                parts.append(f"unit's {ticket.unit_due_at.astimezone(SHANGHAI):%Y-%m-%d}")
            self.stdout.write(f"  {ticket.number}  {', '.join(parts)}")
        if total > limit > -1:
            self.stdout.write(f"  … and {total - limit} more")
