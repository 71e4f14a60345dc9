"""How fast the SIP redirect server answers: SIPp sends INVITEs to bound virtual numbers at a
steady rate and times each 302 (Debian's `sip-tester` package provides /usr/bin/sipp).

    .venv/bin/python benchmarks/sip.py                       # 2,000 calls at 200/s, SQLite
    .venv/bin/python benchmarks/sip.py --calls 5000 --rate 500
    .venv/bin/python benchmarks/sip.py --database-url postgres://postgres@127.0.0.1:5432/minyi_bench_sip

A fresh database (a temporary SQLite file by default; a PostgreSQL database whose name contains
`bench`, emptied first) gets `--bindings` live bindings, ten per virtual number, each with its
own requester and handler. Calls go round them, alternately from the handler and from the
requester. Every answer must be a 302 (tests/test_calls_sipp.py checks where it points); each
routed call also records its
start (a row and a timeline event), in the same database threads as the lookups.

Prints the response times SIPp measured (INVITE sent → 302 received) and the server's own time
per INVITE, as percentiles. Exit status 1 if a call failed or the p95 exceeds --goal-ms (20).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENARIO = """<?xml version="1.0" encoding="UTF-8" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="Minyi SIP redirect benchmark">
  <send retrans="500" start_rtd="1">
    <![CDATA[

      INVITE sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field1]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="302" rtd="1"/>
  <send>
    <![CDATA[

      ACK sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field1]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
</scenario>
"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=200, help="calls per second")
    parser.add_argument("--bindings", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4, help="the server's database threads")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--goal-ms", type=float, default=20.0, help="p95 of the response time")
    parser.add_argument("--no-record", action="store_true", help="route only; record no call starts")
    args = parser.parse_args()
    sipp = shutil.which("sipp")
    if sipp is None:
        print("SIPp is missing: apt-get install sip-tester", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="minyi-sip-bench-"))
    os.environ.update(DJANGO_SETTINGS_MODULE="minyi.settings", DEBUG="1", MINYI_DATA_DIR=str(workdir), LOG_LEVEL="WARNING")
    if args.database_url:
        if "bench" not in args.database_url.rsplit("/", 1)[-1]:
            print("refusing a database whose name does not contain 'bench' (it is emptied)", file=sys.stderr)
            return 2
        os.environ["DATABASE_URL"] = args.database_url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.database_url:
        call_command("flush", interactive=False, verbosity=0)
    bindings = load(args.bindings)
    print(f"{len(bindings)} live bindings on {len({x for x, _a, _b in bindings})} numbers "
          f"({os.environ.get('DATABASE_URL', 'SQLite').split('@')[-1]})")

    rows = []
    for i in range(args.calls):
        x, a, b = bindings[i % len(bindings)]
        rows.append(f"{x};{b};" if (i // len(bindings)) % 2 == 0 else f"{x};{a};")
    (workdir / "calls.csv").write_text("SEQUENTIAL\n" + "\n".join(rows) + "\n")
    (workdir / "bench.xml").write_text(SCENARIO)

    from minyi.calls.sip import ServerThread

    options = {"record": lambda route, call_id: None} if args.no_record else {}
    server = ServerThread("127.0.0.1", 0, workers=args.workers, **options)
    port = server.start()
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 (sipp with arguments built here)
        [sipp, "-sf", "bench.xml", "-inf", "calls.csv", "-m", str(args.calls), "-r", str(args.rate), "-l", "200",
         f"127.0.0.1:{port}", "-i", "127.0.0.1", "-p", str(free_udp_port()), "-nostdin", "-trace_err",
         "-trace_rtt", "-rtt_freq", "1", "-timeout", "120", "-timeout_error"],
        cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True, text=True,
    )
    wall = time.monotonic() - started
    time.sleep(1)  # let the last starts be recorded
    server_times = [t * 1000 for t in server.server.protocol.timings]
    server.stop()

    from minyi.calls.models import CallRecord

    rtts = [v for path in workdir.glob("bench_*_rtt.csv") for v in read_rtt(path)]
    recorded = CallRecord.objects.count()
    print(f"sipp exit {done.returncode}; {len(rtts)} answers timed in {wall:.1f} s "
          f"({args.calls / wall:.0f} calls/s offered {args.rate}/s); {recorded} call starts recorded")
    if rtts:
        print(f"client (INVITE → 302):  p50 {percentile(rtts, 50):.2f} ms  p95 {percentile(rtts, 95):.2f} ms  "
              f"p99 {percentile(rtts, 99):.2f} ms  max {max(rtts):.2f} ms  mean {statistics.fmean(rtts):.2f} ms")
    if server_times:
        print(f"server (lookup + answer): p50 {percentile(server_times, 50):.2f} ms  "
              f"p95 {percentile(server_times, 95):.2f} ms  p99 {percentile(server_times, 99):.2f} ms  "
              f"max {max(server_times):.2f} ms")
    failed = done.returncode != 0 or len(rtts) < args.calls
    if failed:
        print(done.stdout[-3000:], done.stderr[-3000:])
    slow = bool(rtts) and percentile(rtts, 95) > args.goal_ms
    if slow:
        print(f"p95 above the goal of {args.goal_ms} ms")
    shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed or slow else 0


def read_rtt(path: Path) -> list[float]:
    if not path.exists():
        return []
    values = []
    for line in path.read_text().splitlines()[1:]:
        parts = line.split(";")
        if len(parts) >= 3:
            try:
                values.append(float(parts[1]))
            except ValueError:
                continue
    return values


def load(count: int) -> list[tuple[str, str, str]]:
    """`count` live bindings, ten per number, each pair of numbers its own: (X, A, B)."""
    import datetime as dt

    from django.contrib.auth.models import Group, User

    from minyi.calls.models import Binding, VirtualNumber
    from minyi.core import clock
    from minyi.org.models import Category, Region, Role, StaffProfile, Unit
    from minyi.tickets.choices import Status
    from minyi.tickets.models import Ticket

    unit = Unit.objects.create(code="BENCH", name="基准测试单位", kind="city_bureau")
    district = Region.objects.create(code="BENCH", name="基准区", kind="district")
    category = Category.objects.create(code="BENCH", name="基准类别")
    handler = User.objects.create_user("bench-handler")
    handler.groups.add(Group.objects.get_or_create(name=Role.HANDLER)[0])
    StaffProfile.objects.create(user=handler, unit=unit)
    now = clock.now()
    numbers = VirtualNumber.objects.bulk_create(
        [VirtualNumber(number=f"07558888{i:04d}") for i in range((count + 9) // 10)]
    )
    tickets = Ticket.objects.bulk_create([
        Ticket(number=f"BENCH-{i:06d}", channel="hotline", status=Status.IN_PROGRESS, type="complaint",
               category=category, district=district, title="基准", text="基准", lead_unit=unit,
               contact_allowed=True, created_at=now, due_at=now + dt.timedelta(days=10))
        for i in range(count)
    ])
    rows = []
    for i, ticket in enumerate(tickets):
        x, a, b = numbers[i // 10], f"138{i:08d}", f"139{i:08d}"
        rows.append(Binding(number=x, ticket=ticket, handler=handler, handler_role=Role.HANDLER, unit=unit,
                            party_a=a, party_b=b, created_at=now, expires_at=now + dt.timedelta(hours=2)))
    Binding.objects.bulk_create(rows)
    return [(b.number.number, b.party_a, b.party_b) for b in rows]


if __name__ == "__main__":
    sys.exit(main())
