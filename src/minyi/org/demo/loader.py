"""Load the demo organisation and logins. Idempotent: rows are found by code or username and
created only when missing; existing rows (an administrator may have edited them) are kept."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from minyi.org.demo import categories, people, regions, units
from minyi.org.models import Category, Region, StaffProfile, Unit


@transaction.atomic
def load_organisation() -> Counter[str]:
    """Regions, units and categories. Returns how many rows of each kind were created."""
    created: Counter[str] = Counter()

    def unit(code: str, **fields) -> Unit:
        row, new = Unit.objects.get_or_create(code=code, defaults=fields)
        created["units"] += new
        return row

    code, name, short = units.PLATFORM
    unit(code, name=name, short_name=short, kind=Unit.Kind.PLATFORM)
    for code, name, short in units.CITY_BUREAUS:
        unit(code, name=name, short_name=short, kind=Unit.Kind.CITY_BUREAU)
    for code, name, short in units.ENTERPRISES:
        unit(code, name=name, short_name=short, kind=Unit.Kind.ENTERPRISE)

    for district in regions.DISTRICTS:
        region, new = Region.objects.get_or_create(
            code=district.code, defaults={"name": district.name, "kind": Region.Kind.DISTRICT}
        )
        created["regions"] += new
        gov_name, gov_short = units.district_government_name(district.name)
        government = unit(
            units.district_unit_code(district.code), name=gov_name, short_name=gov_short,
            kind=Unit.Kind.DISTRICT, region=region,
        )
        if district.code not in units.DISTRICTS_WITHOUT_BUREAUS:
            for suffix, bureau, bureau_short in units.DISTRICT_BUREAUS:
                unit(
                    units.district_bureau_code(district.code, suffix),
                    name=f"深圳市{district.name}{bureau}", short_name=f"{district.name}{bureau_short}",
                    kind=Unit.Kind.DISTRICT_BUREAU, parent=government, region=region,
                )
        for index, street_name in enumerate(district.streets):
            street, new = Region.objects.get_or_create(
                code=district.street_code(index),
                defaults={"name": street_name, "kind": Region.Kind.STREET, "parent": region},
            )
            created["regions"] += new
            unit(
                units.street_unit_code(street.code),
                name=f"深圳市{district.name}{street_name}办事处", short_name=f"{street_name}办",
                kind=Unit.Kind.STREET, parent=government, region=street,
            )

    by_code = {u.code: u for u in Unit.objects.all()}
    nodes: dict[str, Category] = {}
    for node, parent in categories.walk():
        row, new = Category.objects.get_or_create(
            code=node.code,
            defaults={
                "name": node.name,
                "parent": nodes[parent.code] if parent else None,
                "default_type": node.type,
                "default_unit": by_code[node.unit] if node.unit else None,
            },
        )
        nodes[node.code] = row
        created["categories"] += new
    return created


@dataclass(frozen=True)
class StaffAccount:
    login: people.Login
    user: Any
    created: bool


def ensure_staff(login: people.Login, *, usable: bool, reset_password: bool = False,
                 password_hash: str | None = None) -> StaffAccount:
    """The staff user of `login`, created when missing, with its role group and profile.

    An existing user's password is left alone unless `reset_password`. `password_hash`, when
    given, is the demo password already hashed (hashing it once saves seconds per login).
    """
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=login.username,
        defaults={"is_staff": login.superuser, "is_superuser": login.superuser},
    )
    if created or (usable and reset_password):
        if usable:
            user.password = password_hash or make_password(people.DEMO_PASSWORD)
        else:
            user.set_unusable_password()
        user.save(update_fields=["password"])
    group, _ = Group.objects.get_or_create(name=login.role)
    user.groups.add(group)
    unit = Unit.objects.filter(code=login.unit_code).first() if login.unit_code else None
    StaffProfile.objects.get_or_create(
        user=user, defaults={"unit": unit, "display_name": login.display_name}
    )
    return StaffAccount(login, user, created)


@transaction.atomic
def load_users(*, reset_passwords: bool = False) -> list[StaffAccount]:
    """The demo logins (password `people.DEMO_PASSWORD`) and the platform's background staff."""
    usernames = [login.username for login in people.DEMO_LOGINS]
    existing = get_user_model().objects.filter(username__in=usernames).count()
    hashed = make_password(people.DEMO_PASSWORD) if reset_passwords or existing < len(usernames) else None
    accounts = [
        ensure_staff(login, usable=True, reset_password=reset_passwords, password_hash=hashed)
        for login in people.DEMO_LOGINS
    ]
    for login in people.CENTRE_STAFF:
        ensure_staff(login, usable=False)
    load_call_lines(accounts)
    return accounts


#: The demo pool of virtual numbers (云呼) and the desk phones of the unit logins (party B).
DEMO_VIRTUAL_NUMBERS = [f"0755888800{n:02d}" for n in range(1, 11)]
DEMO_DESK_PHONES = {"handler": "13590000001", "leader": "13590000002"}


def load_call_lines(accounts: list[StaffAccount]) -> None:
    """A pool of ten virtual numbers and the handler's and leader's lines, so that "call the
    requester" works in the demo (idempotent)."""
    from minyi.calls.models import HandlerLine, VirtualNumber

    for number in DEMO_VIRTUAL_NUMBERS:
        VirtualNumber.objects.get_or_create(number=number, defaults={"notes": "演示号码池"})
    for account in accounts:
        phone = DEMO_DESK_PHONES.get(account.login.username)
        if phone and not HandlerLine.objects.filter(user=account.user).exists():
            HandlerLine.objects.create(user=account.user, phone=phone)
