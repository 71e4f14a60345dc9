"""Indexes that no query needs, dropped: each is paid for by every ticket inserted.

- created_at, district and lead_unit: the composite indexes ticket_created_cov,
  ticket_district_status and ticket_unit_status_cov start with the same column;
- the event's ticket: event_ticket_time starts with it;
- on PostgreSQL, the LIKE-only (varchar_pattern_ops) copies of the number and phone-hash indexes.

The model state changes as Django would write it; the database changes are done by hand so that
a large table is not rebuilt nor its foreign keys checked again: indexes are dropped or renamed
(the unique number index becomes the constraint ticket_number_unique), which is instant at any
size.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

#: Single-column indexes no longer wanted, by table; found by their columns, whatever their names.
UNWANTED = {
    "tickets_ticket": (["created_at"], ["district_id"], ["lead_unit_id"], ["requester_phone_hash"], ["number"]),
    "tickets_ticketevent": (["ticket_id"],),
}


def _indexes(schema_editor, table):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, table)


def forwards(apps, schema_editor):
    run, quote = schema_editor.execute, schema_editor.quote_name
    postgres = schema_editor.connection.vendor == "postgresql"
    for table, columns in UNWANTED.items():
        for name, info in _indexes(schema_editor, table).items():
            plain = info["index"] and not info["unique"] and not info["primary_key"] and not info["foreign_key"]
            if plain and info["columns"] in columns and name != "ticket_phone_hash":
                run(f"DROP INDEX IF EXISTS {quote(name)}")
    run('CREATE INDEX IF NOT EXISTS "ticket_phone_hash" ON "tickets_ticket" ("requester_phone_hash")')
    unique = [
        name for name, info in _indexes(schema_editor, "tickets_ticket").items()
        if info["unique"] and info["columns"] == ["number"] and not info["primary_key"]
    ]
    if postgres and "ticket_number_unique" not in unique and unique:
        run(f'ALTER TABLE "tickets_ticket" RENAME CONSTRAINT {quote(unique[0])} TO "ticket_number_unique"')
    elif "ticket_number_unique" not in unique:
        # SQLite keeps the column's own UNIQUE too, until Django next rebuilds the table.
        run('CREATE UNIQUE INDEX IF NOT EXISTS "ticket_number_unique" ON "tickets_ticket" ("number")')


def backwards(apps, schema_editor):
    run = schema_editor.execute
    for table, column in (("tickets_ticket", "created_at"), ("tickets_ticket", "district_id"),
                          ("tickets_ticket", "lead_unit_id"), ("tickets_ticketevent", "ticket_id")):
        run(f'CREATE INDEX IF NOT EXISTS "{table}_{column}_0014" ON "{table}" ("{column}")')


class Migration(migrations.Migration):

    dependencies = [
        ('org', '0002_role_groups'),
        ('tickets', '0013_escalated_is_derived'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
            migrations.AlterField(
                model_name='ticket',
                name='created_at',
                field=models.DateTimeField(verbose_name='submitted at'),
            ),
            migrations.AlterField(
                model_name='ticket',
                name='district',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.region', verbose_name='district'),
            ),
            migrations.AlterField(
                model_name='ticket',
                name='lead_unit',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='lead_tickets', to='org.unit', verbose_name='lead unit'),
            ),
            migrations.AlterField(
                model_name='ticket',
                name='number',
                field=models.CharField(max_length=20, verbose_name='number'),
            ),
            migrations.AlterField(
                model_name='ticket',
                name='requester_phone_hash',
                field=models.CharField(blank=True, editable=False, max_length=40),
            ),
            migrations.AlterField(
                model_name='ticketevent',
                name='ticket',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='tickets.ticket'),
            ),
            migrations.AddIndex(
                model_name='ticket',
                index=models.Index(fields=['requester_phone_hash'], name='ticket_phone_hash'),
            ),
            migrations.AddConstraint(
                model_name='ticket',
                constraint=models.UniqueConstraint(fields=('number',), name='ticket_number_unique'),
            ),
            ],
        ),
    ]
