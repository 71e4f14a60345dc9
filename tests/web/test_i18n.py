"""The Simplified Chinese catalogue is complete, compiled, and covers every string of the package.

After changing a translatable string:

    cd src/minyi
    DEBUG=1 MINYI_DATA_DIR=/tmp/minyi-i18n ../../.venv/bin/minyi makemessages -l zh_Hans --ignore=.venv --no-obsolete --add-location=file
    # translate the new entries in locale/zh_Hans/LC_MESSAGES/django.po, then
    DEBUG=1 MINYI_DATA_DIR=/tmp/minyi-i18n ../../.venv/bin/minyi compilemessages -l zh_Hans
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

import minyi

PACKAGE = Path(minyi.__file__).resolve().parent
LC_MESSAGES = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\{\s*(\w+)\s*\}\}")


def entries(catalogue) -> dict[tuple[str | None, str], object]:
    """(msgctxt, msgid) -> msgstr, or the tuple of plural forms."""
    out: dict[tuple[str | None, str], object] = {}
    for entry in catalogue:
        if entry.obsolete or not entry.msgid:
            continue
        if entry.msgid_plural:
            out[(entry.msgctxt, entry.msgid)] = tuple(
                entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)
            )
        else:
            out[(entry.msgctxt, entry.msgid)] = entry.msgstr
    return out


@pytest.fixture(scope="module")
def po():
    return polib.pofile(str(PO))


def test_every_entry_is_translated_and_none_is_fuzzy(po):
    live = [e for e in po if not e.obsolete]
    assert live, "the catalogue is empty"
    untranslated = [e.msgid for e in live if not e.translated()]
    fuzzy = [e.msgid for e in live if "fuzzy" in e.flags]
    assert untranslated == [], f"untranslated: {untranslated}"
    assert fuzzy == [], f"fuzzy: {fuzzy}"
    assert not po.metadata_is_fuzzy
    assert po.metadata.get("Plural-Forms") == "nplurals=1; plural=0;"


def test_placeholders_are_kept_in_translations(po):
    for entry in po:
        if entry.obsolete:
            continue
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        expected = {m.group(0) for m in PLACEHOLDER.finditer(entry.msgid)}
        for text in translations:
            assert {m.group(0) for m in PLACEHOLDER.finditer(text)} == expected, entry.msgid


def test_the_compiled_catalogue_matches_the_po_file(po):
    """The .mo must be the .po compiled: same entries, same translations (run compilemessages)."""
    assert MO.exists(), "django.mo is missing: run compilemessages"
    compiled = polib.mofile(str(MO))
    assert entries(compiled) == entries(po)
    assert compiled.metadata.get("Plural-Forms") == po.metadata.get("Plural-Forms")


def test_django_uses_the_catalogue():
    with translation.override("zh-hans"):
        assert (
            translation.gettext("The ticket number or access code is wrong.")
            == "工单编号或查询码错误"
        )
        assert translation.gettext("To dispatch") == "待派发"
    with translation.override("en"):
        assert translation.gettext("To dispatch") == "To dispatch"


def test_the_catalogue_covers_every_translatable_string(tmp_path, monkeypatch):
    """Extract the strings of the package afresh (xgettext) and compare with the .po file."""
    if shutil.which("xgettext") is None or shutil.which("msguniq") is None:
        message = "GNU gettext (xgettext) is needed to extract strings: apt-get install gettext"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    copy = tmp_path / "minyi"
    shutil.copytree(
        PACKAGE,
        copy,
        ignore=shutil.ignore_patterns("locale", "__pycache__", "*.pyc", "static", "var"),
    )
    (copy / "locale").mkdir()
    monkeypatch.chdir(copy)
    with override_settings(LOCALE_PATHS=[str(copy / "locale")]):
        call_command("makemessages", locale=["zh_Hans"], domain="django", verbosity=0)
    extracted = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    known = set(entries(polib.pofile(str(PO))))
    missing = sorted(key[1] for key in entries(extracted) if key not in known)
    assert missing == [], (
        f"strings missing from django.po (run makemessages and translate): {missing}"
    )
