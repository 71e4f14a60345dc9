"""Intake throughput: tickets created through `POST /api/v1/tickets` against the production
server (`minyi serve`, gunicorn) on PostgreSQL and Redis, load from a separate process (wrk) on
loopback, bounded in time; then pgbench's TPS for a single-row insert of the same ticket row
on the same database (the physical limit of this machine), and the ratio.

    .venv/bin/python benchmarks/intake.py                     # 20 s of load, 16 connections
    .venv/bin/python benchmarks/intake.py --seconds 30 --connections 32 --workers 5

Needs PostgreSQL (`BENCH_DATABASE_URL`, default postgres://postgres@127.0.0.1:5432/minyi_bench_intake;
its name must contain "bench": tickets are added to it), Redis (`REDIS_URL`, default
redis://127.0.0.1:6379/15) and wrk (`apt-get install wrk`). Goal: ≥ 1,000 tickets/s, p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import machine  # benchmarks/machine.py: the line describing this machine

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
DATA_KEY = "bench:YmVuY2htYXJrLW9ubHktZGF0YS1rZXktMzItYnl0ZXM="
BENCH_SECRET = "benchmark-only"  # noqa: S105 (a throwaway benchmark database's key)

BODIES = [
    {"type": "complaint", "title": "小区电梯经常故障无人维修",
     "text": "福田区莲花街道景华花园3栋电梯近一个月内多次停运，老人上下楼十分困难，多次向物业反映仍未修复，请相关部门督促物业尽快维修。",
     "requester_name": "张先生", "requester_phone": "13800138000", "contact_allowed": True},
    {"type": "help", "title": "路灯不亮夜间出行不安全",
     "text": "莲花路与彩田路交叉口附近连续三盏路灯不亮已有一周，晚上行人和电动车经过很危险，希望尽快维修。",
     "anonymous": True, "contact_allowed": False},
    {"type": "consultation", "title": "咨询新生儿医保办理流程",
     "text": "请问在深圳出生的新生儿如何办理少儿医保？需要准备哪些材料，可以在网上办理吗？",
     "requester_name": "李女士", "requester_phone": "13912345678", "contact_allowed": False},
    {"type": "report", "title": "工地夜间违规施工噪音扰民",
     "text": "深南大道旁某工地每晚十一点以后仍在打桩施工，噪音很大，严重影响周边居民休息，请执法部门查处。",
     "anonymous": True, "contact_allowed": True, "requester_phone": "13700137000"},
]


def tool(name: str) -> str:
    """The full path of a command the benchmark runs (wrk, pgbench)."""
    found = shutil.which(name)
    if found is None:
        sys.exit(f"{name} is needed: apt-get install -y {'wrk' if name == 'wrk' else 'postgresql-client'}")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    if "bench" not in name:
        sys.exit(f"refusing database {name!r}: its name must contain 'bench'")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def environment(url: str, redis: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url, REDIS_URL=redis, DJANGO_SETTINGS_MODULE="minyi.settings", SECRET_KEY=BENCH_SECRET,
        MINYI_DATA_KEYS=DATA_KEY, ALLOWED_HOSTS="127.0.0.1,localhost", LOG_LEVEL="WARNING", DEBUG="0",
        MINYI_DATA_DIR=env.get("MINYI_DATA_DIR", tempfile.mkdtemp(prefix="minyi-bench-intake-")),
        DB_CONN_MAX_AGE="600",
    )
    return env


def minyi(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "minyi"), *args], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    return done.stdout


def fixtures(env: dict[str, str]) -> dict:
    """Demo organisation and logins; a leaf category, a district and street; the ticket row
    pgbench inserts (the same columns a created ticket has)."""
    minyi(env, "migrate", "-v0")
    minyi(env, "demo", "--tickets", "0")
    script = """
import json
from minyi.org.models import Category, Region
leaf = Category.objects.filter(code="010101").first() or Category.objects.filter(children__isnull=True).first()
district = Region.objects.get(code="440304")
street = Region.objects.filter(parent=district).first()
print(json.dumps({"category": leaf.pk, "district": district.code, "street": street.code}))
"""
    out = subprocess.run([str(BIN / "python"), "-c", "import django;django.setup()\n" + script], env=env,  # noqa: S603
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def token(port: int) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/token",
        data=json.dumps({"username": "agent", "password": "minyi-demo"}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
        return json.load(response)["token"]


def wait_ready(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/categories", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.3)
    sys.exit("the server did not start")


def lua(bodies: list[dict], bearer: str, path: str = "/api/v1/tickets") -> str:
    encoded = ",\n".join("[[" + json.dumps(b, ensure_ascii=False) + "]]" for b in bodies)
    return f"""
local bodies = {{
{encoded}
}}
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {bearer}"
request = function()
  n = n + 1
  return wrk.format(nil, "{path}", nil, bodies[(n % #bodies) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d %d\\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(90), summary.duration))
end
"""


def count_tickets(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0]


PGBENCH = r"""
INSERT INTO tickets_ticket (number, channel, status, anonymous, requester_kind, requester_name, requester_phone,
  requester_phone_hash, requester_id_number, requester_email, enterprise_name, enterprise_credit_code,
  contact_allowed, access_code_hash, type, urgent, category_id, district_id, street_id, address, title, text,
  created_at, time_limit_days, extended_days, due_at, due_provisional, unit_due_provisional, forced_dispatch,
  redo_count)
VALUES ('B' || nextval('minyi_bench_number'), 'hotline', 'submitted',
  false, 'citizen', 'v1$bench$c2VhbGVkLW5hbWUtdmFsdWUtb2YtYS1yZXF1ZXN0ZXI=', 'v1$bench$c2VhbGVkLXBob25lLXZhbHVl',
  'f3a9c1d2e4b5a6978877665544332211aabbccdd', '', '', '', '', true,
  'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90', 'complaint', false, :category, :district,
  NULL, '', '小区电梯经常故障无人维修',
  '福田区莲花街道景华花园3栋电梯近一个月内多次停运，老人上下楼十分困难，多次向物业反映仍未修复，请相关部门督促物业尽快维修。',
  now(), 15, 0, now() + interval '21 days', false, false, false, 0);
"""


def pgbench(url: str, fx: dict, env: dict[str, str], connections: int, seconds: int) -> float:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        district = conn.execute("SELECT id FROM org_region WHERE code = %s", (fx["district"],)).fetchone()[0]
        conn.execute("CREATE SEQUENCE IF NOT EXISTS minyi_bench_number")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(PGBENCH)
    m = re.match(r"postgres(?:ql)?://(?:(?P<user>[^@:]+)@)?(?P<host>[^:/]+)(?::(?P<port>\d+))?/(?P<db>\w+)", url)
    assert m, url
    done = subprocess.run(  # noqa: S603
        [tool("pgbench"), "-n", "-c", str(connections), "-j", "2", "-T", str(seconds), "-f", f.name,
         "-D", f"category={fx['category']}", "-D", f"district={district}",
         "-h", m["host"], "-p", m["port"] or "5432", "-U", m["user"] or "postgres", m["db"]],
        capture_output=True, text=True, check=True,
    )
    tps = re.search(r"tps = ([\d.]+)", done.stdout)
    assert tps, done.stdout
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM tickets_ticket WHERE number LIKE 'B%%'")
    return float(tps.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=5, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker (more than 1: gunicorn's gthread workers, which keep connections alive)")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/minyi_bench_intake"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    args = parser.parse_args()
    print(machine.describe())
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")
    ensure_database(args.database_url)
    env = environment(args.database_url, args.redis_url)
    fx = fixtures(env)
    bodies = [{**b, "category_id": fx["category"], "district": fx["district"], "street": fx["street"]} for b in BODIES]
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [str(BIN / "minyi"), "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
         "--threads", str(args.threads),
         "--access-log", "", "--max-requests", "0"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        wait_ready(port)
        bearer = token(port)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(lua(bodies, bearer))
        # Warm up every worker (imports, connections, the calendar), then measure.
        subprocess.run([tool("wrk"), "-t2", "-c8", "-d3s", "-s", f.name, f"http://127.0.0.1:{port}"],  # noqa: S603
                       capture_output=True, check=True)
        before = count_tickets(args.database_url)
        done = subprocess.run(  # noqa: S603
            [tool("wrk"), "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "5s", "-s", f.name,
             f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, check=True,
        )
        created = count_tickets(args.database_url) - before
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    result = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", done.stdout)
    assert result, done.stdout
    requests, bad_status, socket_errors, p50, p99, p90, duration_us = (int(x) for x in result.groups())
    rate = created / (duration_us / 1e6)
    tps = pgbench(args.database_url, fx, env, args.connections, min(args.seconds, 15))
    print(f"intake: {created:,} tickets in {duration_us / 1e6:.1f} s over {args.connections} connections, "
          f"{args.workers} gunicorn workers × {args.threads} threads")
    print(f"  tickets/s        {rate:,.0f}   (goal ≥ 1,000)")
    print(f"  latency p50      {p50 / 1000:.1f} ms")
    print(f"  latency p90      {p90 / 1000:.1f} ms")
    print(f"  latency p99      {p99 / 1000:.1f} ms   (goal < 100 ms)")
    print(f"  non-2xx / socket errors: {bad_status} / {socket_errors}  (requests sent {requests:,})")
    print(f"pgbench single-row insert of the same ticket row: {tps:,.0f} TPS")
    print(f"  ratio tickets/s ÷ insert TPS: {rate / tps:.2f}")
    sys.exit(0 if rate >= 1000 and p99 < 100_000 and not bad_status else 1)


if __name__ == "__main__":
    main()
