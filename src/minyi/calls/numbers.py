"""Telephone numbers as the call routing compares them. Pure: no database."""

from __future__ import annotations

import re

_NOT_DIGITS = re.compile(r"\D")


def normalise_number(text: str) -> str:
    """The national form of a Chinese number, digits only: ``+86 138-0013-8000`` →
    ``13800138000``; ``+86 755 8321 2345`` → ``075583212345`` (a landline keeps its trunk 0).
    Other text is reduced to its digits; empty stays empty."""
    raw = (text or "").strip()
    digits = _NOT_DIGITS.sub("", raw)
    international = raw.startswith("+") or digits.startswith("00")
    if digits.startswith("0086"):
        digits, international = digits[4:], True
    elif digits.startswith("86") and (international or len(digits) == 13):
        digits, international = digits[2:], True
    elif international:  # another country's number: keep it whole, marked by its 00 prefix
        return digits if digits.startswith("00") else "00" + digits
    if international and digits and not digits.startswith(("1", "0")):
        digits = "0" + digits  # a landline dialled from abroad drops its trunk 0
    return digits
