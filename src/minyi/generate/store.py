"""The database side of generation: reserving ticket numbers and ids, writing rows in bulk
(PostgreSQL COPY, SQLite executemany), secondary indexes off during a big load, and removing
generated tickets.

- **Numbers** (`reserve_numbers`): one ``INSERT … ON CONFLICT (day) DO UPDATE SET last = last
  + k RETURNING`` reserves k numbers of every day at once, the statement `next_number` uses,
  so tickets submitted meanwhile get fresh numbers and the sequence stays ahead.
- **Ids** (`reserve_ids`): each table's id sequence is moved past the run's upper bound under
  a short table lock; the run writes ids from the old value and `finish_ids` moves the
  sequences back to the largest id in the table.
- **Indexes** (`IndexSet`): for a big load the non-unique indexes of the bulk tables are
  dropped and built again at the end (several at a time); their definitions are kept in a file
  until then, so an interrupted run's next start restores them.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction

from minyi.feedback.models import RatingReview
from minyi.generate import draw, worktime
from minyi.generate.rows import COLUMNS, GENERATED_MARK, NULL, sqlite_rows
from minyi.generate.texts import copy_escape
from minyi.sla.models import Extension
from minyi.supervision.models import SupervisionOrder
from minyi.tickets.models import DailySequence, Reply, Ticket, TicketEvent, TicketRating

MODELS: dict[str, type[models.Model]] = {
    "ticket": Ticket, "event": TicketEvent, "reply": Reply, "rating": TicketRating,
    "extension": Extension, "order": SupervisionOrder, "review": RatingReview,
}
#: Tables whose secondary indexes are dropped during a big load (the others stay small).
BULK_TABLES = ("ticket", "event", "reply", "rating")
#: Rows of each table per ticket at most (for the id reservation).
MAX_PER_TICKET = {"ticket": 1, "event": 16, "reply": 2, "rating": 2, "extension": 1, "order": 1, "review": 1}


class Layout:
    """How the rows of a table are written: its columns, and the defaults of columns the
    renderer does not know (a field added later with a default gets it)."""

    def __init__(self, key: str) -> None:
        model = MODELS[key]
        self.key, self.table = key, model._meta.db_table
        fields = {str(f.column): f for f in model._meta.concrete_fields}
        known = COLUMNS[key]
        missing = [c for c in known if c not in fields]
        if missing:
            raise RuntimeError(f"{self.table} has no column {', '.join(missing)}: the generator needs updating")
        extra = [f for column, f in fields.items() if column not in known]
        for f in extra:
            if not f.has_default() and not f.null:
                raise RuntimeError(f"{self.table}.{f.column} has no default: the generator needs updating")
        self.columns = (*known, *(str(f.column) for f in extra))
        defaults = [f.get_default() for f in extra]
        self.tail = "".join("\t" + _copy_value(v) for v in defaults)
        self.tail_values = [_python_value(v) for v in defaults]
        ordered = [fields[c] for c in self.columns]
        self.booleans = [k for k, f in enumerate(ordered) if isinstance(f, models.BooleanField)]
        quote = connection.ops.quote_name
        self.column_sql = ", ".join(quote(c) for c in self.columns)
        self.copy_sql = f"COPY {quote(self.table)} ({self.column_sql}) FROM STDIN"
        marks = ", ".join(["%s"] * len(self.columns))
        self.insert_sql = f"INSERT INTO {quote(self.table)} ({self.column_sql}) VALUES ({marks})"  # noqa: S608

    def text(self, lines: list[str]) -> str:
        if self.tail:
            return "".join(line[:-1] + self.tail + "\n" for line in lines)
        return "".join(lines)


def _copy_value(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return copy_escape(json.dumps(value, ensure_ascii=False))
    return copy_escape(str(value))


def _python_value(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def layouts() -> dict[str, Layout]:
    return {key: Layout(key) for key in draw.TABLES}


# --- writing -------------------------------------------------------------------------------------


def write_postgres(cursor: Any, layout: dict[str, Layout], out: dict[str, list[str]]) -> None:
    """COPY a chunk's rows through a psycopg cursor (the caller commits)."""
    for key in draw.TABLES:
        if out[key]:
            with cursor.copy(layout[key].copy_sql) as copy:
                copy.write(layout[key].text(out[key]))


def write_sqlite(cursor: Any, layout: dict[str, Layout], out: dict[str, list[str]]) -> None:
    for key in draw.TABLES:
        if out[key]:
            rows = sqlite_rows(out[key], layout[key].booleans)
            tail = layout[key].tail_values
            cursor.executemany(layout[key].insert_sql, [row + tail for row in rows] if tail else rows)


def write(out: dict[str, list[str]], layout: dict[str, Layout]) -> None:
    """Write a chunk through Django's connection, in one transaction (a savepoint in tests)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            write_postgres(cursor, layout, out)
        else:
            write_sqlite(cursor, layout, out)


def connect_params() -> dict[str, Any]:
    """psycopg.connect() keywords for a worker's own connection to the same database."""
    db = connection.settings_dict
    params: dict[str, Any] = {"dbname": db["NAME"]}
    for key, name in (("USER", "user"), ("PASSWORD", "password"), ("HOST", "host"), ("PORT", "port")):
        if db.get(key):
            params[name] = db[key]
    django_only = {"isolation_level", "server_side_binding", "pool", "assume_role", "cursor_factory"}
    params.update({k: v for k, v in db.get("OPTIONS", {}).items() if k not in django_only})
    return params


def bulk_session(conn: Any) -> bool:
    """Settings of a loading session: no wait for the WAL flush at each commit, and foreign
    keys not checked row by row (`session_replication_role = replica`, as pg_restore
    --disable-triggers; needs a superuser: the generator writes consistent rows and the tests
    check them). Returns whether the checks are off."""
    import psycopg

    conn.execute("SET synchronous_commit = off")
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()
    try:
        conn.execute("SET session_replication_role = replica")
        conn.commit()
        return True
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()
        return False


# --- numbers and ids -----------------------------------------------------------------------------


def reserve_numbers(first_day: int, counts: Sequence[int]) -> list[int]:
    """Reserve counts[i] ticket numbers of local day first_day + i; returns, per day, the last
    number used before (the day's new tickets are numbered from it + 1)."""
    table = connection.ops.quote_name(DailySequence._meta.db_table)
    days = [(worktime.to_date(first_day + i), int(k)) for i, k in enumerate(counts) if k]
    starts = [0] * len(counts)
    with transaction.atomic(), connection.cursor() as cursor:
        for lo in range(0, len(days), 400):
            part = days[lo:lo + 400]
            values = ", ".join(["(%s, %s)"] * len(part))
            cursor.execute(
                f"INSERT INTO {table} (day, last) VALUES {values} "  # noqa: S608 (a quoted table name)
                f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + excluded.last RETURNING day, last",
                [x for pair in part for x in pair],
            )
            last = {(d if isinstance(d, dt.date) else dt.date.fromisoformat(d)): v for d, v in cursor.fetchall()}
            for day, k in part:
                starts[worktime.from_date(day) - first_day] = last[day] - k
    if max(starts[i] + int(counts[i]) for i in range(len(counts))) > 999_999:
        raise RuntimeError("more than 999,999 tickets on one day: numbers have six digits")
    return starts


def reserve_ids(n: int) -> list[int]:
    """The first id each table's rows of this run get (TABLES order); the sequences are moved
    past them so that rows written meanwhile by the platform get other ids."""
    starts = []
    with transaction.atomic(), connection.cursor() as cursor:
        for key in draw.TABLES:
            model = MODELS[key]
            table = connection.ops.quote_name(model._meta.db_table)
            if connection.vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])
                sequence = cursor.fetchone()[0]
                cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
                last, called = cursor.fetchone()
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
                start = max(last if called else last - 1, cursor.fetchone()[0]) + 1
                cursor.execute("SELECT setval(%s, %s)", [sequence, start + MAX_PER_TICKET[key] * n + 1000])
            else:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
                start = cursor.fetchone()[0] + 1
            starts.append(start)
    return starts


def finish_ids() -> None:
    """Move each sequence back to the largest id in its table (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in MODELS.values():
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])
            sequence = cursor.fetchone()[0]
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608
            largest = cursor.fetchone()[0]
            if largest:
                cursor.execute("SELECT setval(%s, %s)", [sequence, largest])


# --- indexes ------------------------------------------------------------------------------------


class IndexSet:
    """The non-unique indexes of the bulk tables, dropped for a load and built again."""

    def __init__(self) -> None:
        name = str(connection.settings_dict["NAME"]).replace("/", "_")
        self.file = Path(settings.DATA_DIR) / f"generate-dropped-indexes-{name}.json"

    def pending(self) -> list[tuple[str, str]]:
        """Indexes a previous run dropped and did not build again."""
        if not self.file.exists():
            return []
        return [tuple(pair) for pair in json.loads(self.file.read_text())]  # type: ignore[misc]

    def drop(self) -> list[tuple[str, str]]:
        tables = [MODELS[k]._meta.db_table for k in BULK_TABLES]
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT i.relname, pg_get_indexdef(x.indexrelid)
                FROM pg_index x
                JOIN pg_class i ON i.oid = x.indexrelid
                JOIN pg_class t ON t.oid = x.indrelid
                WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace
                  AND NOT x.indisunique AND NOT x.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
                ORDER BY t.relname, i.relname
                """,
                [tables],
            )
            found = [(name, ddl) for name, ddl in cursor.fetchall()]
            self.file.write_text(json.dumps(self.pending() + found, ensure_ascii=False))
            for name, _ddl in found:
                cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
        return found

    def restore(self, *, parallel: int = 2, report: Callable[[str, float], None] | None = None) -> float:
        """Build the dropped indexes again, `parallel` at a time. Returns the seconds taken."""
        import psycopg

        wanted = self.pending()
        if not wanted:
            return 0.0
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
            present = {row[0] for row in cursor.fetchall()}
        todo = [(name, ddl) for name, ddl in wanted if name not in present]
        # The biggest tables first, so the workers finish together.
        order = {MODELS[k]._meta.db_table: i for i, k in enumerate(("event", "ticket", "reply", "rating"))}
        todo.sort(key=lambda item: order.get(item[1].split(" ON ")[1].split()[0].split(".")[-1], 9))
        lock, errors = threading.Lock(), []

        def build() -> None:
            with psycopg.connect(**connect_params(), autocommit=True) as conn:
                conn.execute("SET maintenance_work_mem = '512MB'")
                while True:
                    with lock:
                        if not todo:
                            return
                        name, ddl = todo.pop(0)
                    started = time.perf_counter()
                    try:
                        conn.execute(ddl)
                    except Exception as exc:  # noqa: BLE001 - reported after the others are built
                        errors.append(f"{name}: {exc}")
                        continue
                    if report:
                        report(name, time.perf_counter() - started)

        threads = [threading.Thread(target=build) for _ in range(max(1, parallel))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise RuntimeError("indexes not built again: " + "; ".join(errors))
        self.file.unlink(missing_ok=True)
        return time.perf_counter() - began


def analyze(*, vacuum: bool = False) -> None:
    """Planner statistics for the tables written; with `vacuum`, VACUUM (ANALYZE) them too, so
    that the first reads do not set hint bits and index-only scans see an up-to-date visibility
    map (as after autovacuum, which would otherwise do it slowly in the background)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in MODELS.values():
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"VACUUM (ANALYZE) {table}" if vacuum else f"ANALYZE {table}")


# --- removing generated tickets --------------------------------------------------------------


def generated_count() -> int:
    return Ticket.objects.filter(access_code_hash=GENERATED_MARK).count()


def reset(report: Callable[[str], None] = print) -> int:
    """Remove the generated tickets and everything that hangs on them. When every ticket is
    generated, the ticket tables are emptied at once (TRUNCATE … CASCADE on PostgreSQL) and
    the daily number sequences start again; otherwise generated tickets are deleted in batches
    through the ORM (its cascade), and numbers stay reserved."""
    generated = generated_count()
    total = Ticket.objects.count()
    if not generated:
        return 0
    if generated == total and connection.vendor == "postgresql" and _truncate_is_exact():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # checks still pending in this transaction first
            cursor.execute(f"TRUNCATE {connection.ops.quote_name(Ticket._meta.db_table)} CASCADE")
            DailySequence.objects.all().delete()
        return generated
    if generated < total:
        report(f"{total - generated:,} tickets not made by the generator are kept; deleting the generated ones one batch at a time")
    ids = Ticket.objects.filter(access_code_hash=GENERATED_MARK).order_by("pk").values_list("pk", flat=True)
    batch: list[int] = []
    for pk in ids.iterator(chunk_size=5000):
        batch.append(pk)
        if len(batch) == 2000:
            _delete(batch)
            batch = []
    _delete(batch)
    if generated == total:
        DailySequence.objects.all().delete()
    return generated


def _truncate_is_exact() -> bool:
    """Whether TRUNCATE … CASCADE of the tickets removes only what hangs on tickets: every
    table it reaches cannot hold a row without a ticket (NOT NULL references, directly or
    through another such table), and nothing that must outlive a ticket (a PROTECT relation,
    e.g. the audit of reveals) refers to one."""
    for related in Ticket._meta.related_objects:
        model = related.related_model
        if related.on_delete is models.PROTECT and model is not Ticket and model._default_manager.exists():
            return False
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE reached(rel) AS (
                SELECT %s::regclass
                UNION
                SELECT c.conrelid FROM pg_constraint c JOIN reached r ON c.confrelid = r.rel WHERE c.contype = 'f'
            ), owned(rel) AS (  -- rows that cannot exist without a ticket (NOT NULL references)
                SELECT %s::regclass
                UNION
                SELECT c.conrelid FROM pg_constraint c
                JOIN owned o ON c.confrelid = o.rel
                JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
                WHERE c.contype = 'f' AND a.attnotnull
            )
            SELECT rel::text FROM reached EXCEPT SELECT rel::text FROM owned
            """,
            [Ticket._meta.db_table] * 2,
        )
        return not cursor.fetchall()


def _delete(ids: Iterable[int]) -> None:
    ids = list(ids)
    if ids:
        with transaction.atomic():
            Ticket.objects.filter(pk__in=ids).delete()


def database_size() -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return int(cursor.fetchone()[0])


def table_sizes() -> dict[str, int]:
    if connection.vendor != "postgresql":
        return {}
    out = {}
    with connection.cursor() as cursor:
        for key, model in MODELS.items():
            cursor.execute("SELECT pg_total_relation_size(%s)", [model._meta.db_table])
            out[key] = int(cursor.fetchone()[0])
    return out
