"""Every random choice of the generated tickets, drawn with numpy for a batch at a time.

One `numpy.random.Generator` seeded by `--seed` draws, in order: how many tickets each day
gets, then day by day each ticket's moment of submission, who asks what where and through
which channel (a text variant of `texts`), and every branch of its life (answered directly or
dispatched, returned, signed late, extended, replied late, rated, redone...) with the uniform
numbers that place each step in time. Rendering rows from these arrays (`rows`) needs no
randomness, so worker processes render any chunk identically. From the branches alone
`max_rows` knows how many rows of each table a ticket can have, which fixes every chunk's ids
before it is rendered (tickets still open at "now" use fewer, leaving a few unused ids).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from minyi.generate import figures, reference, worktime
from minyi.generate.texts import ALL_TEMPLATES, HOT_ISSUE_INDEX
from minyi.org.demo import regions

TYPES = ("consultation", "help", "suggestion", "complaint", "report")
CHANNELS = ("hotline", "web", "app", "miniprogram")
RATINGS = ("satisfied", "basically_satisfied", "dissatisfied")
OUTCOMES = reference.REPLY_OUTCOMES
TABLES = ("ticket", "event", "reply", "rating", "extension", "order", "review")
#: Uniform numbers per ticket that place its steps in time (see `rows.Renderer`).
UNIFORMS = 12

#: Sizes of the pools of (pre-sealed) personal data tickets draw from.
NAME_POOL = 50_000
PHONE_POOL = 200_000
EMAIL_POOL = 20_000
COMPANY_POOL = 20_000


def _shares(weights: Mapping[str, float], order: tuple[str, ...]) -> np.ndarray:
    values = np.array([weights.get(key, 0) for key in order], dtype=float)
    return values / values.sum()


@dataclass(frozen=True)
class Mix:
    """Per template: its request type, urgency and who asks it; per district: its weight."""

    per_place: int
    type_index: np.ndarray
    urgent: np.ndarray
    answered: np.ndarray  # a consultation with a knowledge-base answer
    citizen: np.ndarray  # probabilities over templates (hot issue excluded)
    enterprise: np.ndarray
    districts: np.ndarray

    @classmethod
    def build(cls, per_place: int) -> Mix:
        types = np.array([TYPES.index(t.type) for t in ALL_TEMPLATES], dtype=np.int8)
        urgent = np.array([t.urgent for t in ALL_TEMPLATES])
        answered = np.array([t.type == "consultation" and bool(t.answer) for t in ALL_TEMPLATES])
        citizen = np.zeros(len(ALL_TEMPLATES))
        type_shares = _shares(figures.CITIZEN_TYPE_WEIGHTS, TYPES)
        for k in range(len(TYPES)):
            members = [i for i in range(len(ALL_TEMPLATES)) if types[i] == k and i != HOT_ISSUE_INDEX]
            citizen[members] = type_shares[k] / len(members)
        enterprise = np.array([t.enterprise for t in ALL_TEMPLATES], dtype=float)
        enterprise[HOT_ISSUE_INDEX] = 0.0
        asks = enterprise * (types == TYPES.index("consultation"))
        complains = enterprise * (types != TYPES.index("consultation"))
        share = figures.ENTERPRISE_CONSULTATION_SHARE
        enterprise = share * asks / asks.sum() + (1 - share) * complains / complains.sum()
        districts = np.array([d.population for d in regions.DISTRICTS], dtype=float)
        return cls(per_place, types, urgent, answered, citizen / citizen.sum(), enterprise,
                   districts / districts.sum())


def day_weights(first: int, last: int, now_day: int, now_fraction: float, works) -> np.ndarray:
    """Relative volume of each local day from `first` to `last`: working days more than days
    off, growing over the years; today only up to now."""
    days = np.arange(first, last + 1)
    weights = np.array([1.0 if works(int(d)) else figures.OFF_DAY_WEIGHT for d in days])
    years = (last - days) / 365.25
    weights *= (1 + figures.YEARLY_GROWTH) ** -years
    weights[days == now_day] *= now_fraction
    return weights


def hot_issue_share(days: np.ndarray, first: int, last: int) -> np.ndarray:
    found = first + figures.HOT_ISSUE_FOUND_AT * (last - first)
    progress = np.clip((days - found) / figures.HOT_ISSUE_DECLINE_DAYS, 0, 1)
    return figures.HOT_ISSUE_SHARE * figures.HOT_ISSUE_FLOOR ** progress


_HOURS = np.array(figures.HOUR_WEIGHTS, dtype=float)
_HOUR_CDF = np.concatenate([[0.0], np.cumsum(_HOURS) / _HOURS.sum()])


def time_of_day_cdf(seconds: int) -> float:
    """Share of a day's tickets submitted before `seconds` into the day."""
    hour, rest = divmod(seconds, worktime.HOUR)
    if hour >= 24:
        return 1.0
    return float(_HOUR_CDF[hour] + (_HOUR_CDF[hour + 1] - _HOUR_CDF[hour]) * rest / worktime.HOUR)


def times_of_day(rng: np.random.Generator, k: int, limit: float = 1.0) -> np.ndarray:
    """k sorted seconds of the day following HOUR_WEIGHTS (below the CDF `limit`)."""
    u = np.sort(rng.random(k)) * limit
    hour = np.clip(np.searchsorted(_HOUR_CDF, u, side="right") - 1, 0, 23)
    inside = (u - _HOUR_CDF[hour]) / (_HOUR_CDF[hour + 1] - _HOUR_CDF[hour])
    return (hour * worktime.HOUR + np.minimum(inside * worktime.HOUR, worktime.HOUR - 1)).astype(np.int64)


def _pick(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    return rng.choice(len(shares), size=n, p=shares).astype(np.int8)


def draw_days(rng: np.random.Generator, mix: Mix, days: np.ndarray, counts: np.ndarray,
              starts: np.ndarray, span: tuple[int, int], now: int, late_share: float) -> dict[str, np.ndarray]:
    """Every choice for the tickets of `days` (counts[i] tickets on days[i], numbered from
    starts[i] + 1), in submission order."""
    m = int(counts.sum())
    now_day, now_tod = divmod(now + worktime.LOCAL_OFFSET, worktime.DAY)
    created = np.empty(m, dtype=np.int64)
    day_of = np.repeat(days, counts)
    seq = np.empty(m, dtype=np.int32)
    at = 0
    for day, k, start in zip(days.tolist(), counts.tolist(), starts.tolist(), strict=True):
        limit = time_of_day_cdf(max(now_tod - 600, 0)) if day == now_day else 1.0
        created[at:at + k] = worktime.day_start(day) + times_of_day(rng, k, limit)
        seq[at:at + k] = np.arange(start + 1, start + k + 1)
        at += k

    enterprise = rng.random(m) < figures.ENTERPRISE_SHARE
    template = np.where(
        enterprise,
        rng.choice(len(mix.enterprise), size=m, p=mix.enterprise),
        rng.choice(len(mix.citizen), size=m, p=mix.citizen),
    )
    hot = ~enterprise & (rng.random(m) < hot_issue_share(day_of, *span))
    template[hot] = HOT_ISSUE_INDEX
    district = rng.choice(len(mix.districts), size=m, p=mix.districts)
    variant = (template * len(mix.districts) + district) * mix.per_place + rng.integers(0, mix.per_place, m)
    channel = np.where(
        enterprise,
        _pick(rng, _shares(figures.ENTERPRISE_CHANNELS, CHANNELS), m),
        _pick(rng, _shares(figures.CITIZEN_CHANNELS, CHANNELS), m),
    )
    kind = mix.type_index[template]
    urgent = rng.random(m) < mix.urgent[template]
    anonymous = ~enterprise & (rng.random(m) < figures.ANONYMOUS_SHARE)
    contact = rng.random(m) < np.where(anonymous, figures.CONTACT_ALLOWED[True], figures.CONTACT_ALLOWED[False])
    hotline = channel == CHANNELS.index("hotline")
    has_phone = contact | (~anonymous & (hotline | (rng.random(m) < figures.NAMED_PHONE_SHARE)))
    online = (channel == CHANNELS.index("web")) | (channel == CHANNELS.index("app"))
    has_email = ~anonymous & online & (rng.random(m) < figures.EMAIL_SHARE)

    direct = mix.answered[template] & (
        rng.random(m) < np.where(enterprise, figures.ENTERPRISE_DIRECT_SHARE, figures.CITIZEN_DIRECT_SHARE)
    )
    dispatched = ~direct
    returned = dispatched & ~urgent & (rng.random(m) < figures.RETURN_SHARE)
    sign_late = dispatched & ~urgent & (rng.random(m) < figures.SIGN_LATE_SHARE)
    long_case = np.isin(kind, [TYPES.index("help"), TYPES.index("complaint"), TYPES.index("report")])
    extended = dispatched & ~urgent & long_case & (rng.random(m) < figures.EXTENSION_SHARE)
    refused = rng.random(m) < figures.EXTENSION_REFUSED_SHARE
    extension = np.where(extended, np.where(refused, 2, 1), 0).astype(np.int8)
    # Late replies: the seed's share of all dispatched tickets, taken from those that can be
    # late (not urgent, no extension).
    can_be_late = dispatched & ~urgent & ~extended
    p_late = min(1.0, late_share * dispatched.sum() / can_be_late.sum()) if can_be_late.any() else 0.0
    late = can_be_late & (rng.random(m) < p_late)
    fraction = rng.beta(*figures.REPLY_FRACTION_BETA, m).astype(np.float32)
    rated = dispatched & (rng.random(m) < np.where(enterprise, figures.RATED_SHARE["enterprise"],
                                                   figures.RATED_SHARE["citizen"]))
    rating = np.where(
        enterprise,
        _pick(rng, _shares(figures.ENTERPRISE_RATINGS, RATINGS), m),
        _pick(rng, _shares(figures.CITIZEN_RATINGS, RATINGS), m),
    )
    dissatisfied = rated & (rating == RATINGS.index("dissatisfied"))
    redo = dissatisfied & (rng.random(m) < figures.REDO_SHARE)
    arrays: dict[str, np.ndarray] = {
        "created": created, "day": day_of.astype(np.int32), "seq": seq, "variant": variant.astype(np.int32),
        "enterprise": enterprise, "channel": channel, "urgent": urgent, "anonymous": anonymous,
        "contact": contact,
        "phone": np.where(has_phone, rng.integers(0, PHONE_POOL, m), -1).astype(np.int32),
        "name": np.where(~anonymous, rng.integers(0, NAME_POOL, m), -1).astype(np.int32),
        "email": np.where(has_email, rng.integers(0, EMAIL_POOL, m), -1).astype(np.int32),
        "company": np.where(enterprise, rng.integers(0, COMPANY_POOL, m), -1).astype(np.int32),
        "direct": direct, "returned": returned, "sign_late": sign_late, "extension": extension,
        "extension_days": rng.choice(figures.EXTENSION_DAYS, size=m).astype(np.int8),
        "late": late, "fraction": fraction, "leader": rng.random(m) < figures.LEADER_REPLY_SHARE,
        "outcome": np.where(
            enterprise,
            _pick(rng, _shares(figures.ENTERPRISE_OUTCOMES, OUTCOMES), m),
            _pick(rng, _shares(figures.CITIZEN_OUTCOMES, OUTCOMES), m),
        ),
        "rated": rated, "rating": rating, "visit": rated & has_phone & (rng.random(m) < figures.VISIT_SHARE),
        "redo": redo, "system_close": rng.random(m) < figures.UNRATED_SYSTEM_CLOSE,
        "pick": rng.integers(0, 1 << 30, m).astype(np.int32),  # which person, which text
        "uniforms": rng.random((m, UNIFORMS), dtype=np.float32),
    }
    arrays["rows"] = max_rows(arrays)
    return arrays


def max_rows(a: dict[str, np.ndarray]) -> np.ndarray:
    """Rows of each table (TABLES order) a ticket has once its life is complete."""
    direct, dispatched = a["direct"].astype(np.int64), (~a["direct"]).astype(np.int64)
    returned, late, redo = (a[k].astype(np.int64) for k in ("returned", "late", "redo"))
    extended = (a["extension"] > 0).astype(np.int64)
    rated = a["rated"].astype(np.int64)
    dissatisfied = rated * (a["rating"] == RATINGS.index("dissatisfied"))
    events = 1 + direct + dispatched * (
        3 + 2 * returned + 2 * extended + 2 * late + 1 + dissatisfied * (1 + 3 * redo)
    )
    return np.stack([
        np.ones_like(direct), events, direct + dispatched * (1 + redo), dispatched * rated * (1 + redo),
        dispatched * extended, dispatched * late, dispatched * dissatisfied,
    ], axis=1)


@dataclass
class Chunk:
    index: int
    arrays: dict[str, np.ndarray]
    bases: tuple[int, ...] = ()  # the first id of each table (TABLES order)

    @property
    def size(self) -> int:
        return len(self.arrays["created"])


def plan_days(rng: np.random.Generator, n: int, first: int, last: int, now: int, works) -> np.ndarray:
    """How many of `n` tickets each day from `first` to `last` gets."""
    now_day, now_tod = divmod(now + worktime.LOCAL_OFFSET, worktime.DAY)
    weights = day_weights(first, last, now_day, time_of_day_cdf(max(now_tod - 600, 0)), works)
    return rng.multinomial(n, weights / weights.sum())


def chunks(rng: np.random.Generator, mix: Mix, first: int, counts: np.ndarray, starts: np.ndarray,
           now: int, size: int, bases: list[int], late_share: float = figures.LATE_SHARE) -> Iterator[Chunk]:
    """The tickets day by day in chunks of at most `size`, each with its first ids."""
    last = first + len(counts) - 1
    index, day = 0, 0
    while day < len(counts):
        # Whole days up to about `size` tickets (a larger day alone, split below).
        end, total = day, 0
        while end < len(counts) and (end == day or total + counts[end] <= size):
            total += int(counts[end])
            end += 1
        days = np.arange(first + day, first + end)
        arrays = draw_days(rng, mix, days, counts[day:end], starts[day:end], (first, last), now, late_share)
        for lo in range(0, total, size):
            part = {k: v[lo:lo + size] for k, v in arrays.items()}
            rows = part["rows"].sum(axis=0)
            chunk = Chunk(index, part, tuple(bases))
            for t in range(len(TABLES)):
                bases[t] += int(rows[t])
            index += 1
            yield chunk
        day = end


def expected_rows_per_ticket(sample: int = 200_000, seed: int = 0, per_place: int = 4) -> dict[str, float]:
    """Average rows per ticket of each table on the default mix (for estimates and docs)."""
    rng = np.random.default_rng(seed)
    mix = Mix.build(per_place)
    arrays = draw_days(rng, mix, np.array([20000]), np.array([sample]), np.array([0]), (19000, 20000),
                       10**12, figures.LATE_SHARE)
    return {t: float(v) for t, v in zip(TABLES, arrays["rows"].mean(axis=0), strict=True)}


def id_bound(n: int) -> int:
    """An upper bound of any table's rows for n tickets (reserved ahead in the sequences)."""
    return int(math.ceil(n * 16)) + 1000
