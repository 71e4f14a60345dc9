"""Where an intake request's time goes: the same request, under the same server and load, stopped
at each layer, with the CPU each process group spent per request.

    .venv/bin/python benchmarks/intake_layers.py                 # 15 s per layer, 16 connections
    .venv/bin/python benchmarks/intake_layers.py --seconds 20 --workers 5

Layers (`benchmarks/layers_app.py`), each served by gunicorn with the same settings as
`minyi serve` (sync workers, no access log), loaded by wrk on loopback with the bodies of
`benchmarks/intake.py`:
  1. wsgi      a bare WSGI function that reads and parses the JSON body: the application
               server's own ceiling on this machine
  2. django    Django with Minyi's settings and middleware, a django-ninja endpoint with the
               platform's token authentication that parses the body and answers 201
  3. validate  the same, plus the intake's validation (`clean_submission`: category, district,
               street, phone, sealing nothing yet)
  4. intake    the real `POST /api/v1/tickets` (validation, deadline, sealing, the insert)

For each layer: requests/s, p50 and p99, and the CPU time per request of the web workers, of
PostgreSQL and of wrk, read from /proc. If layer 2 cannot reach a rate, no intake written in
this stack can on this machine. Needs what benchmarks/intake.py needs (PostgreSQL, Redis, wrk).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import intake  # benchmarks/intake.py: database, fixtures, token, wrk script
import machine

HERE = Path(__file__).resolve().parent
LAYERS = {
    "wsgi": ("layers_app:bare", "/"),
    "django": ("layers_app:django_app()", "/layers/noop"),
    "validate": ("layers_app:django_app()", "/layers/validate"),
    "intake": ("layers_app:django_app()", "/api/v1/tickets"),
}
TICK = os.sysconf("SC_CLK_TCK")


def cpu_by_group(server_pgid: int) -> dict[str, float]:
    """CPU seconds (user + system) so far of the web server's processes and PostgreSQL's (wrk's
    is read from this process's children once it has exited)."""
    totals = {"web": 0.0, "postgres": 0.0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        seconds = (int(fields[11]) + int(fields[12])) / TICK
        if int(fields[2]) == server_pgid:
            totals["web"] += seconds
        elif name == "postgres":
            totals["postgres"] += seconds
    return totals


def run_layer(name: str, args, env: dict[str, str], bodies: list[dict]) -> dict:
    target, path = LAYERS[name]
    port = intake.free_port()
    with tempfile.TemporaryFile() as log:  # the server's errors, shown if it fails
        server = subprocess.Popen(  # noqa: S603
            [str(intake.BIN / "gunicorn"), "--chdir", str(HERE), "--bind", f"127.0.0.1:{port}",
             "--workers", str(args.workers), "--worker-class", "sync", "--preload", "--log-level", "warning",
             target],
            env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
        )
        try:
            intake.wait_ready(port)
            bearer = intake.token(port) if name != "wsgi" else "none"
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
                f.write(intake.lua(bodies, bearer, path))
            wrk = [intake.tool("wrk"), "-t2", "--timeout", "5s", "-s", f.name, f"http://127.0.0.1:{port}"]
            subprocess.run([*wrk, "-c8", "-d3s"], capture_output=True, check=True)  # noqa: S603 (warm up)
            before = cpu_by_group(server.pid)
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run([*wrk, f"-c{args.connections}", f"-d{args.seconds}s"],  # noqa: S603
                                  capture_output=True, text=True, check=True)
            after = cpu_by_group(server.pid)
            ended = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk has exited: its CPU is counted here
            wrk_seconds = (ended.ru_utime + ended.ru_stime) - (children.ru_utime + children.ru_stime)
        except BaseException:
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace")[-3000:])
            raise
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
    found = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", done.stdout)
    assert found, done.stdout
    requests, bad, errors, p50, p99, _p90, duration_us = (int(x) for x in found.groups())
    if bad or errors:
        sys.exit(f"{name}: {bad} non-2xx answers, {errors} socket errors")
    return {
        "rate": requests / (duration_us / 1e6), "p50": p50 / 1000, "p99": p99 / 1000,
        **{group: (after[group] - before[group]) * 1000 / requests for group in before},
        "wrk": wrk_seconds * 1000 / requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--layer", action="append", choices=list(LAYERS), help="default: all")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/minyi_bench_intake"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    args = parser.parse_args()
    print(machine.describe())
    intake.tool("wrk")
    intake.ensure_database(args.database_url)
    env = intake.environment(args.database_url, args.redis_url)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    fx = intake.fixtures(env)
    bodies = [{**b, "category_id": fx["category"], "district": fx["district"], "street": fx["street"]}
              for b in intake.BODIES]
    print(f"{args.workers} gunicorn sync workers, {args.connections} connections, {args.seconds} s per layer")
    print(f"{'layer':<10}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}   CPU ms per request: "
          f"{'web':>6}{'postgres':>10}{'wrk':>6}{'total':>7}")
    for name in args.layer or list(LAYERS):
        r = run_layer(name, args, env, bodies)
        total = r["web"] + r["postgres"] + r["wrk"]
        print(f"{name:<10}{r['rate']:>8,.0f}{r['p50']:>9.1f}{r['p99']:>9.1f}   {'':>20}"
              f"{r['web']:>6.2f}{r['postgres']:>10.2f}{r['wrk']:>6.2f}{total:>7.2f}", flush=True)
        time.sleep(1)
    print(f"the machine's CPU budget: {os.cpu_count()} cores = {os.cpu_count() * 1000:,} CPU ms per second; "
          f"1,000 requests/s leave {os.cpu_count():.0f} CPU ms for each")


if __name__ == "__main__":
    main()
