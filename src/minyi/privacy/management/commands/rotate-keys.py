"""`minyi rotate-keys`: re-encrypt personal data under the current key (the first of
MINYI_DATA_KEYS) and recompute the keyed phone hashes. `--new-key` prints a fresh key."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from minyi.privacy.crypto import keyring, new_key
from minyi.privacy.rotation import key_ids, rotate


class Command(BaseCommand):
    help = "Re-encrypt personal data under the current key; --new-key prints a new key to add."

    def add_arguments(self, parser):
        parser.add_argument("--new-key", action="store_true", help="print a new random key (base64) and exit")
        parser.add_argument("--no-rehash", action="store_true", help="keep the phone hashes as they are")

    def handle(self, *args, **options):
        if options["new_key"]:
            self.stdout.write(new_key())
            return
        self.stdout.write(f"current key: {keyring().current}")
        self.stdout.write(f"before: {dict(key_ids())}")
        done = rotate(rehash=not options["no_rehash"])
        for label, count in done.items():
            self.stdout.write(f"  {label}: {count} rows rewritten")
        self.stdout.write(f"after: {dict(key_ids())}")
