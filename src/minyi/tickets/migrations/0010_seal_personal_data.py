"""Seal the personal fields written before encryption, and hash the phones (ADR 10).

Runs in batches with the real field classes' logic (the historical model has the same
EncryptedTextField, which seals on save and opens on read; plain old values read as they are).
"""

from django.db import migrations

FIELDS = ["requester_name", "requester_phone", "requester_email", "address"]


def seal(apps, schema_editor):
    from minyi.privacy.crypto import phone_hash

    Ticket = apps.get_model("tickets", "Ticket")
    batch = []
    for ticket in Ticket.objects.only("pk", *FIELDS).iterator(chunk_size=2000):
        ticket.requester_phone_hash = phone_hash(ticket.requester_phone)
        batch.append(ticket)
        if len(batch) >= 2000:
            Ticket.objects.bulk_update(batch, [*FIELDS, "requester_phone_hash"])
            batch = []
    if batch:
        Ticket.objects.bulk_update(batch, [*FIELDS, "requester_phone_hash"])


class Migration(migrations.Migration):
    dependencies = [("tickets", "0009_personal_data_encrypted")]
    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
