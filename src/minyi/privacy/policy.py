"""Who sees which personal field, and how it is masked. Pure: no database.

The matrix is data: for each role and field, `clear`, `masked` or `hidden`, and which roles may
reveal a field in clear (with a reason, audited). Someone with several roles sees the most a
role allows. Numbers written inside free text (mobile numbers, ID numbers with a valid check
digit, bank card numbers passing the Luhn check) are masked for every role outside intake.
"""

from __future__ import annotations

import re

from minyi.org.models import Role

CLEAR, MASKED, HIDDEN = "clear", "masked", "hidden"
_RANK = {HIDDEN: 0, MASKED: 1, CLEAR: 2}

#: The requester's personal fields (Ticket attribute for each).
FIELDS = {
    "name": "requester_name",
    "phone": "requester_phone",
    "email": "requester_email",
    "id_number": "requester_id_number",
    "address": "address",
}

R = Role
#: role -> field -> visibility. Intake (the hotline agents and dispatchers who take the call and
#: route it) sees what the requester gave; supervisors see identities masked; handling units and
#: leaders never see phone or ID in clear (they call through virtual numbers).
POLICY: dict[str, dict[str, str]] = {
    R.INTAKE_AGENT: {"name": CLEAR, "phone": CLEAR, "email": CLEAR, "id_number": MASKED, "address": CLEAR},
    R.DISPATCHER: {"name": CLEAR, "phone": CLEAR, "email": CLEAR, "id_number": MASKED, "address": CLEAR},
    R.SUPERVISOR: {"name": CLEAR, "phone": MASKED, "email": MASKED, "id_number": MASKED, "address": CLEAR},
    R.HANDLER: {"name": MASKED, "phone": MASKED, "email": HIDDEN, "id_number": HIDDEN, "address": CLEAR},
    R.UNIT_LEADER: {"name": MASKED, "phone": MASKED, "email": HIDDEN, "id_number": HIDDEN, "address": CLEAR},
    R.CITY_LEADER: {"name": MASKED, "phone": HIDDEN, "email": HIDDEN, "id_number": HIDDEN, "address": CLEAR},
    R.ADMIN: {"name": MASKED, "phone": MASKED, "email": MASKED, "id_number": MASKED, "address": CLEAR},
}
#: role -> fields it may reveal in clear, giving a reason (every reveal is audited).
REVEAL: dict[str, frozenset[str]] = {
    R.INTAKE_AGENT: frozenset({"id_number"}),
    R.DISPATCHER: frozenset({"id_number"}),
    R.SUPERVISOR: frozenset({"phone", "email", "id_number"}),
}
#: Roles that read numbers inside the request text as written (they took the request in).
TEXT_CLEAR_ROLES = frozenset({R.INTAKE_AGENT, R.DISPATCHER})


def visibility(roles: frozenset[str] | set[str], field: str) -> str:
    best = HIDDEN
    for role in roles:
        level = POLICY.get(role, {}).get(field, HIDDEN)
        if _RANK[level] > _RANK[best]:
            best = level
    return best


def may_reveal(roles: frozenset[str] | set[str], field: str) -> bool:
    return any(field in REVEAL.get(role, ()) for role in roles)


def text_in_clear(roles: frozenset[str] | set[str]) -> bool:
    return bool(set(roles) & TEXT_CLEAR_ROLES)


# --- masks ------------------------------------------------------------------------------------


def mask_phone(phone: str) -> str:
    if len(phone) >= 7:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * len(phone)


def mask_name(name: str) -> str:
    return name[0] + "*" * max(1, len(name) - 1) if name else ""


def mask_email(address: str) -> str:
    user, _at, domain = address.partition("@")
    return (user[:1] + "***@" + domain) if domain else ("***" if address else "")


def mask_id_number(number: str) -> str:
    return number[:6] + "*" * (len(number) - 10) + number[-4:] if len(number) > 10 else "*" * len(number)


def mask_address(address: str) -> str:
    return address[:6] + "****" if len(address) > 6 else address


MASKS = {
    "name": mask_name, "phone": mask_phone, "email": mask_email, "id_number": mask_id_number,
    "address": mask_address,
}


def shown(field: str, value: str, level: str) -> str:
    """The value as a role with `level` sees it."""
    if not value or level == HIDDEN:
        return ""
    return value if level == CLEAR else MASKS[field](value)


# --- numbers inside free text ---------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_valid(number: str) -> bool:
    """An 18-character resident ID number (GB 11643) with a correct check character."""
    if not re.fullmatch(r"\d{17}[\dXx]", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_valid(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_NUMBERS = re.compile(r"(?<![\dA-Za-z])(\d{17}[\dXx]|\d{13,19}|1[3-9]\d{9}|1[3-9]\d[ -]\d{4}[ -]\d{4})(?![\dA-Za-z])")


def mask_text(text: str) -> str:
    """Mask mobile numbers, ID numbers (valid check character) and bank cards (Luhn) in text."""

    def replace(match: re.Match[str]) -> str:
        raw = match.group(0)
        digits = re.sub(r"[ -]", "", raw)
        if len(digits) == 18 and id_number_valid(digits):
            return mask_id_number(digits)
        if len(digits) == 11 and re.fullmatch(r"1[3-9]\d{9}", digits):
            return mask_phone(digits)
        if 16 <= len(digits) <= 19 and digits.isdigit() and luhn_valid(digits):
            return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]
        return raw

    return _NUMBERS.sub(replace, text or "")
