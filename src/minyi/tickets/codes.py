"""Ticket numbers and the requester's secret access code."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import connection

#: No 0/O, 1/I/L: the code is read out over the phone and typed on a phone.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # about 49 bits; guessing is further bounded by rate limits


def new_access_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_access_code(code: str) -> str:
    key = getattr(settings, "MINYI_ACCESS_CODE_KEY", settings.SECRET_KEY).encode()
    return hmac.new(key, normalise_code(code).encode(), hashlib.sha256).hexdigest()


def access_code_matches(code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_access_code(code), stored_hash)


def count_up_sql() -> str:
    """The statement that creates or counts up a day's row (parameter: the day) and returns its
    new value (PostgreSQL and SQLite ≥ 3.35); the row stays locked until the transaction ends."""
    from minyi.tickets.models import DailySequence

    table = connection.ops.quote_name(DailySequence._meta.db_table)
    return (
        f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 (a quoted table name)
        f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last"
    )


def next_number(day: dt.date) -> str:
    """The next readable ticket number of `day`; call inside a transaction (the row stays locked)."""
    with connection.cursor() as cursor:
        cursor.execute(count_up_sql(), [day])
        last = cursor.fetchone()[0]
    return number_for(day, last)


def number_prefix(day: dt.date) -> str:
    return f"{day:%Y%m%d}-"


def number_for(day: dt.date, last: int) -> str:
    """The readable number of the day's `last`-th ticket: 20261130-000123 (six digits at least)."""
    return f"{number_prefix(day)}{last:06d}"
