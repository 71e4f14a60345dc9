"""`minyi demo`: load a Shenzhen-like organisation, the demo logins and a ticket history.

Safe to run on every start: the organisation and the logins are created only where missing,
and tickets are created only while there are none (or with --force).
"""

from __future__ import annotations

import time
import unicodedata

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count

from minyi.core import clock
from minyi.org.demo import history, loader, people
from minyi.org.models import Category, Region, Unit
from minyi.tickets.choices import Status
from minyi.tickets.models import Ticket

STATUS_LABELS = {
    Status.SUBMITTED: "已受理，待派单",
    Status.DISPATCHED: "已派单，待签收",
    Status.RETURNED: "已退单，待研判",
    Status.IN_PROGRESS: "办理中",
    Status.PENDING_APPROVAL: "重办答复，待领导审核",
    Status.REPLIED: "已答复，待评价",
    Status.UNDER_REVIEW: "不满意，待复核",
    Status.CLOSED: "已办结",
    Status.MERGED: "已合并",
}
#: Open statuses in which the requester still waits for an answer.
UNANSWERED = (Status.SUBMITTED, Status.DISPATCHED, Status.RETURNED, Status.IN_PROGRESS, Status.PENDING_APPROVAL)


class Command(BaseCommand):
    help = "Load the demo organisation (Shenzhen), demo logins and a realistic ticket history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, default=300,
                            help="How many tickets to create (default 300; 0 to skip).")
        parser.add_argument("--days", type=int, default=60,
                            help="Spread the tickets over this many past days (default 60).")
        parser.add_argument("--seed", type=int, default=12345,
                            help="Random seed of the ticket history (default 12345).")
        parser.add_argument("--force", action="store_true",
                            help="Add tickets even when the database already has some.")
        parser.add_argument("--reset-passwords", action="store_true",
                            help=f"Set the demo logins' password back to {people.DEMO_PASSWORD}.")

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        created = loader.load_organisation()
        accounts = loader.load_users(reset_passwords=options["reset_passwords"])
        self.stdout.write(
            f"组织机构：{Region.objects.count()} 个区/街道，{Unit.objects.count()} 个单位，"
            f"{Category.objects.count()} 个诉求分类"
            f"（本次新建 {created['regions']} / {created['units']} / {created['categories']}）"
        )
        new_users = sum(1 for a in accounts if a.created)
        self.stdout.write(f"演示账号：{len(accounts)} 个（本次新建 {new_users} 个）")

        count = max(options["tickets"], 0)
        existing = Ticket.objects.count()
        if count and existing and not options["force"]:
            self.stdout.write(f"已有 {existing} 张工单，不再生成（加 --force 可追加）。")
        elif count:
            days = max(options["days"], 1)
            seed = options["seed"] + existing  # --force adds a different history
            loaded = history.load_tickets(count, seed=seed, days=days, quiet=options["verbosity"] < 2)
            self.stdout.write(f"生成工单：{len(loaded)} 张（近 {days} 天，随机种子 {seed}）")
            self._track_codes(loaded)

        self._summary()
        self._logins(accounts)
        self.stdout.write(f"用时 {time.monotonic() - started:.1f} 秒")

    def _track_codes(self, loaded: list[history.Loaded]) -> None:
        """A few tickets awaiting the requester's rating, with the access code to try tracking."""
        codes = {t.id: t for t in loaded}
        waiting = Ticket.objects.filter(pk__in=codes, status=Status.REPLIED).order_by("-replied_at")[:3]
        if waiting:
            self.stdout.write("诉求人查询/评价示例（工单号 + 查询码，仅此次显示）：")
        for ticket in waiting:
            self.stdout.write(f"  {ticket.number}  {codes[ticket.pk].access_code}  {ticket.title}")

    def _summary(self) -> None:
        rows = dict(Ticket.objects.values_list("status").annotate(n=Count("id")))
        total = sum(rows.values())
        if not total:
            return
        self.stdout.write("\n工单状态")
        for status in Status:
            if rows.get(status.value):
                self.stdout.write(
                    f"  {_pad(status.value, 14)}{_pad(STATUS_LABELS[status], 18)}{rows[status.value]:>5}"
                )
        overdue = Ticket.objects.filter(status__in=UNANSWERED, due_at__lt=clock.now()).count()
        self.stdout.write(f"  {_pad('合计', 32)}{total:>5}（其中超期未答复 {overdue} 张）")

    def _logins(self, accounts: list[loader.StaffAccount]) -> None:
        self.stdout.write(f"\n演示账号（密码均为 {people.DEMO_PASSWORD}）")
        self.stdout.write(f"  {_pad('用户名', 18)}{_pad('角色', 14)}{_pad('姓名', 8)}单位")
        codes = [a.login.unit_code for a in accounts]
        units = dict(Unit.objects.filter(code__in=codes).values_list("code", "name"))
        for account in accounts:
            login = account.login
            self.stdout.write(
                f"  {_pad(login.username, 18)}{_pad(people.ROLE_LABELS[login.role], 14)}"
                f"{_pad(login.display_name, 8)}{units.get(login.unit_code or '', '—')}"
            )
        if any(not a.created for a in accounts):
            self.stdout.write("  （已存在的账号保留原密码；加 --reset-passwords 可重置为演示密码）")


def _pad(text: str, width: int) -> str:
    """Pad to `width` terminal columns; Chinese characters take two."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)
