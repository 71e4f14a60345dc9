"""One generation run: prepare, draw and render in chunks, write, finish.

The main process draws every chunk (`draw.chunks`, fast and vectorised) and hands them to
worker processes that render the rows (`rows.Renderer`, the Python-heavy part) and COPY them
into PostgreSQL on their own connections, one transaction per chunk. Workers are forked after
everything they need is built, so they share it without pickling. With no workers (SQLite,
the tests) the main process renders and writes each chunk through Django's connection.
Memory stays bounded: a few chunks are in flight at a time.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import queue
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection, connections

from minyi.generate import draw, reference, rows, store, texts, worktime
from minyi.sla import services

#: Above this many tickets (and at least as many as are already there), secondary indexes are
#: dropped during the load and built again after it.
DROP_INDEXES_FROM = 200_000


@dataclass
class Options:
    tickets: int
    days: int = 1095
    seed: int = 12345
    now: dt.datetime | None = None
    workers: int | None = None  # None: 2 on PostgreSQL, 0 (in-process) on SQLite
    chunk: int = 10_000
    per_place: int = 16  # text variants of each template in each district
    indexes: str = "auto"  # auto, keep, drop
    vacuum: bool = False  # VACUUM (ANALYZE) the tables after the load (PostgreSQL)
    progress: bool = True


@dataclass
class Summary:
    tickets: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of each phase
    busy: dict[str, float] = field(default_factory=dict)  # summed over workers: render, write
    workers: int = 0
    checks_off: bool = False  # foreign keys not checked row by row during the load
    indexes_rebuilt: int = 0
    database_bytes: int | None = None
    table_bytes: dict[str, int] = field(default_factory=dict)
    seed: int = 0
    first_day: dt.date | None = None
    last_day: dt.date | None = None

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# Set in the main process before the workers are forked; they inherit it.
_SHARED: dict[str, Any] = {}


def _worker(tasks: Any, results: Any) -> None:
    import psycopg

    renderer: rows.Renderer = _SHARED["renderer"]
    layout: dict[str, store.Layout] = _SHARED["layout"]
    try:
        with psycopg.connect(**_SHARED["params"]) as conn:
            checks_off = store.bulk_session(conn)
            results.put(("ready", checks_off))
            while True:
                chunk = tasks.get()
                if chunk is None:
                    break
                began = time.perf_counter()
                out, counts = renderer.render(chunk)
                rendered = time.perf_counter()
                with conn.cursor() as cursor:
                    store.write_postgres(cursor, layout, out)
                conn.commit()
                results.put(("done", chunk.size, counts, rendered - began, time.perf_counter() - rendered))
        results.put(("exit",))
    except BaseException:  # noqa: BLE001 - reported to the main process, which stops the run
        results.put(("error", traceback.format_exc()))


@dataclass
class Prepared:
    """Everything a run needs before the first chunk: built once, shared with the workers."""

    options: Options
    seed: int
    existing: int
    now: int
    first_day: int
    counts: np.ndarray  # tickets per day
    starts: list[int]  # per day, the last number used before
    bases: list[int]  # per table, the first id
    renderer: rows.Renderer
    layout: dict[str, store.Layout]
    rng: np.random.Generator
    mix: draw.Mix

    def chunks(self) -> Iterator[draw.Chunk]:
        return draw.chunks(self.rng, self.mix, self.first_day, self.counts, np.asarray(self.starts),
                           self.now, self.options.chunk, self.bases)


def prepare(options: Options, *, reserve: bool = True) -> Prepared:
    """The organisation, texts, reference data, calendar, and (with `reserve`) the numbers and
    ids of the run. Without `reserve` nothing is written: chunks can be rendered in memory."""
    postgres = connection.vendor == "postgresql"
    reference.ensure_organisation()
    existing = store.generated_count()
    seed = options.seed + existing  # adding to generated tickets draws different ones
    variants = texts.build_variants(options.seed, options.per_place, *_unit_names())
    unit_codes = {v.unit for v in variants} | {v.wrong[0] for v in variants}
    ref = reference.load(unit_codes, {(t.type, t.category) for t in texts.ALL_TEMPLATES})
    now = worktime.from_datetime(options.now or dt.datetime.now(dt.UTC))
    now_day = worktime.local_day(now)
    first_day = now_day - max(options.days, 1) + 1
    wt = worktime.WorkTime(services.current_calendar(), first_day - 10, now_day + 400,
                           office_hours=ref.office_hours)
    rng = np.random.default_rng(seed)
    counts = draw.plan_days(rng, options.tickets, first_day, now_day, now, wt.is_working)
    if reserve:
        starts = store.reserve_numbers(first_day, counts.tolist())
        bases = store.reserve_ids(options.tickets)
    else:
        starts, bases = [0] * len(counts), [1] * len(draw.TABLES)
    # Pools of sealed personal data: as large as the run needs, up to the draw's ranges.
    sizes = tuple(min(size, max(1000, options.tickets)) for size in
                  (draw.NAME_POOL, draw.PHONE_POOL, draw.EMAIL_POOL, draw.COMPANY_POOL))
    pools = rows.build_pools(options.seed, variants, sizes=sizes)  # type: ignore[arg-type]
    clock = rows.Clock(first_day - 10, now_day + 400, utc_suffix="+00" if postgres else "")
    renderer = rows.Renderer(ref, variants, pools, wt, clock, now)
    return Prepared(options, seed, existing, now, first_day, counts, starts, bases, renderer,
                    store.layouts(), rng, draw.Mix.build(options.per_place))


def run(options: Options, report: Callable[[str], None] = print) -> Summary:
    summary = Summary()
    began = time.perf_counter()
    postgres = connection.vendor == "postgresql"
    workers = options.workers if options.workers is not None else (default_workers() if postgres else 0)
    if workers and not postgres:
        raise ValueError("worker processes write with COPY: PostgreSQL only (SQLite writes in-process)")
    summary.workers = workers

    indexes = store.IndexSet() if postgres else None
    if indexes and indexes.pending():
        report("restoring indexes an interrupted run dropped…")
        indexes.restore()
    prepared = prepare(options)
    summary.seed = prepared.seed
    summary.first_day = worktime.to_date(prepared.first_day)
    summary.last_day = worktime.to_date(worktime.local_day(prepared.now))
    summary.seconds["prepare"] = time.perf_counter() - began

    drop = options.indexes == "drop" or (
        options.indexes == "auto" and postgres and options.tickets >= DROP_INDEXES_FROM
        and options.tickets >= _ticket_count()
    )
    if drop and indexes is not None:
        dropped = indexes.drop()
        report(f"dropped {len(dropped)} secondary indexes for the load; they are built again at the end")

    # --- load ------------------------------------------------------------------------------
    loading = time.perf_counter()
    totals = [0] * len(draw.TABLES)
    busy = {"render": 0.0, "write": 0.0}
    bar = _progress(options.tickets, options.progress)

    def done(size: int, row_counts: list[int], render_s: float, write_s: float) -> None:
        for k, v in enumerate(row_counts):
            totals[k] += v
        busy["render"] += render_s
        busy["write"] += write_s
        summary.tickets += size
        if bar is not None:
            elapsed = max(time.perf_counter() - loading, 1e-9)
            bar.set_postfix(rows_s=f"{sum(totals) / elapsed:,.0f}", refresh=False)
            bar.update(size)

    try:
        if workers:
            summary.checks_off = _load_in_workers(prepared.chunks(), workers, prepared.renderer,
                                                  prepared.layout, done)
        else:
            for chunk in prepared.chunks():
                t0 = time.perf_counter()
                out, row_counts = prepared.renderer.render(chunk)
                t1 = time.perf_counter()
                store.write(out, prepared.layout)
                done(chunk.size, row_counts, t1 - t0, time.perf_counter() - t1)
    finally:
        if bar is not None:
            bar.close()
        summary.seconds["load"] = time.perf_counter() - loading
        summary.busy = busy
        summary.rows = dict(zip(draw.TABLES, totals, strict=True))
        store.finish_ids()
        if indexes is not None and indexes.pending():
            report("building the secondary indexes again…")
            summary.indexes_rebuilt = len(indexes.pending())
            summary.seconds["indexes"] = indexes.restore(parallel=2)
    finishing = time.perf_counter()
    store.analyze(vacuum=options.vacuum)
    summary.seconds["vacuum" if options.vacuum and postgres else "analyze"] = time.perf_counter() - finishing
    summary.seconds["total"] = time.perf_counter() - began
    summary.database_bytes = store.database_size()
    summary.table_bytes = store.table_sizes()
    return summary


def _ticket_count() -> int:
    from minyi.tickets.models import Ticket

    return Ticket.objects.count()


def _unit_names() -> tuple[dict[str, str], dict[str, str]]:
    from minyi.org.models import Unit

    short, full = {}, {}
    for code, name, short_name in Unit.objects.values_list("code", "name", "short_name"):
        short[code], full[code] = short_name or name, name
    return short, full


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="tickets", unit_scale=True, smoothing=0.05, dynamic_ncols=True)


def _load_in_workers(plan: Any, workers: int, renderer: rows.Renderer, layout: dict[str, store.Layout],
                     done: Callable[[int, list[int], float, float], None]) -> bool:
    """Render and COPY in `workers` forked processes; the main process draws and reports."""
    _SHARED.update(renderer=renderer, layout=layout, params=store.connect_params())
    connections.close_all()  # a forked child must not share the parent's connection
    context = mp.get_context("fork")
    tasks = context.Queue(maxsize=workers * 2)
    results = context.Queue()
    procs = [context.Process(target=_worker, args=(tasks, results), daemon=True) for _ in range(workers)]
    for proc in procs:
        proc.start()
    checks_off: list[bool] = []
    exits = [0]

    def poll(timeout: float | None) -> bool:
        """Handle one message; False when there was none."""
        try:
            message = results.get(timeout=timeout) if timeout else results.get_nowait()
        except queue.Empty:
            if sum(not p.is_alive() for p in procs) > exits[0]:
                raise RuntimeError("a worker process died") from None
            return False
        if message[0] == "error":
            raise RuntimeError(f"a worker failed:\n{message[1]}")
        if message[0] == "ready":
            checks_off.append(message[1])
        elif message[0] == "exit":
            exits[0] += 1
        else:
            done(*message[1:])
        return True

    try:
        for chunk in plan:
            while True:
                try:
                    tasks.put(chunk, timeout=0.2)
                    break
                except queue.Full:
                    while poll(None):
                        pass
            while poll(None):
                pass
        for _ in procs:
            tasks.put(None)
        while exits[0] < workers:
            poll(0.5)
        for proc in procs:
            proc.join()
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        _SHARED.clear()
    return bool(checks_off) and all(checks_off)


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))
