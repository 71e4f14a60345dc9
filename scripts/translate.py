"""Fill zh_Hans translations from the command line: `python scripts/translate.py 'msgid=译文' ...`.

Lists untranslated or fuzzy entries when called without arguments. Run `make messages`
before (to extract) and after (to compile).
"""

import sys

import polib

PO = "src/minyi/locale/zh_Hans/LC_MESSAGES/django.po"
po = polib.pofile(PO)
if len(sys.argv) == 1:
    for entry in po.untranslated_entries() + po.fuzzy_entries():
        print(entry.msgid)
    sys.exit(0)
given = dict(arg.split("=", 1) for arg in sys.argv[1:])
for entry in po:
    if entry.msgid in given:
        entry.msgstr = given.pop(entry.msgid)
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = None
po.save(PO)
if given:
    sys.exit(f"not in the catalogue: {sorted(given)}")
