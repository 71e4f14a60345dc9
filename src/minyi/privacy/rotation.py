"""Key rotation: re-seal every encrypted value under the current key, and recompute the keyed
hashes (after MINYI_HASH_KEY changed). Idempotent: values already under the current key are
left as they are; safe to interrupt and run again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Model

from minyi.privacy.crypto import key_id, keyring, phone_hash
from minyi.privacy.fields import EncryptedTextField

BATCH = 1000


def encrypted_columns() -> Iterator[tuple[type[Model], list[str]]]:
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            yield model, names


def _column(model: type[Model], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)  # type: ignore[union-attr,arg-type]


def key_ids() -> Counter[str]:
    """How many stored values each key id seals ("plain" for values written before encryption)."""
    counts: Counter[str] = Counter()
    for model, names in encrypted_columns():
        table = connection.ops.quote_name(model._meta.db_table)
        for name in names:
            column = _column(model, name)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {column} FROM {table} WHERE {column} <> ''")  # noqa: S608
                while rows := cursor.fetchmany(10_000):
                    counts.update(key_id(raw) or "plain" for (raw,) in rows)
    return counts


def rotate(*, rehash: bool = True) -> dict[str, int]:
    """Re-seal under the current key. Returns rows rewritten per model."""
    current = keyring().current
    done: dict[str, int] = {}
    for model, names in encrypted_columns():
        table = connection.ops.quote_name(model._meta.db_table)
        pk = _column(model, model._meta.pk.name)
        conditions = " OR ".join(
            f"({c} <> '' AND {c} NOT LIKE %s)"
            for c in (_column(model, n) for n in names)
        )
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk} FROM {table} WHERE {conditions}", [f"v1${current}$%"] * len(names))  # noqa: S608
            stale = [row[0] for row in cursor.fetchall()]
        hashed = rehash and any(f.name == "requester_phone_hash" for f in model._meta.get_fields())
        if hashed:  # every row: the hash key may have changed
            stale = list(model._default_manager.values_list("pk", flat=True))
        for start in range(0, len(stale), BATCH):
            with transaction.atomic():
                rows: list[Any] = list(
                    model._default_manager.select_for_update().filter(pk__in=stale[start:start + BATCH])
                )
                for row in rows:
                    if hashed:
                        row.requester_phone_hash = phone_hash(row.requester_phone)
                fields = [*names, "requester_phone_hash"] if hashed else names
                # Saving re-seals every value under the current key (reading opened it).
                model._default_manager.bulk_update(rows, fields)
        done[model._meta.label] = len(stale)
    return done
