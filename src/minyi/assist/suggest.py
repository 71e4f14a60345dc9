"""Suggestions for the intake agent from a request's free text: request type, category, lead
unit, urgency and location, each with a confidence and the words that drove it.

Everything works without a trained model: the category then comes from the category names,
the type from cue words, urgency and location from rules and the gazetteer (org.Region rows).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from minyi.assist import text as T
from minyi.assist.model import ModelStore, TextClassifier

DATA = Path(__file__).resolve().parent / "data"
#: Names of the models in the store.
CATEGORY_MODEL = "category"  # labels: platform Category codes (from closed tickets)
TYPE_MODEL = "type"  # labels: RequestType values (from closed tickets)
EXTERNAL_MODEL = "external"  # labels: category names (trained from a CSV); mapped by name


@dataclass
class Suggestion:
    value: Any = None  # a RequestType value, a pk, a region code, or a boolean
    label: str = ""
    confidence: float = 0.0
    reasons: list[str] = field(default_factory=list)
    source: str = ""  # "model", "rules", "gazetteer", "names", "category", "street"


@dataclass
class Suggestions:
    type: Suggestion
    category: Suggestion
    unit: Suggestion
    urgent: Suggestion
    district: Suggestion
    street: Suggestion

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {name: asdict(getattr(self, name)) for name in
                ("type", "category", "unit", "urgent", "district", "street")}


@cache
def rules() -> dict[str, Any]:
    with open(DATA / "rules.json", encoding="utf-8") as f:
        return json.load(f)  # type: ignore[no-any-return]


def find_words(text: str, words: list[str], negations: list[str] | None = None) -> list[str]:
    """The words of `words` present in `text`, in the list's order; a hit directly preceded
    (within 3 characters) by a negation does not count."""
    hits: list[str] = []
    for word in words:
        start = text.find(word)
        while start >= 0:
            before = text[max(0, start - 3) : start]
            if not negations or not any(n in before for n in negations):
                if not any(word in h for h in hits):
                    hits.append(word)
                break
            start = text.find(word, start + 1)
    return hits


def urgency(text: str) -> Suggestion:
    data = rules()
    matched, risks = [], []
    for group in data["urgent"]:
        hits = find_words(text, group["words"], data["negations"])
        if hits:
            matched += hits
            risks.append(group["risk"])
    if not matched:
        return Suggestion(False, _("Not urgent"), 0.7, [], "rules")
    confidence = 0.9 if len(matched) == 1 else 0.97
    return Suggestion(True, _("Urgent: life or property at risk"), confidence, matched, "rules")


def type_by_rules(text: str) -> Suggestion | None:
    from minyi.tickets.choices import RequestType

    best: tuple[int, str, list[str]] | None = None
    for value, words in rules()["types"].items():
        hits = find_words(text, words)
        if hits and (best is None or len(hits) > best[0]):
            best = (len(hits), value, hits)
    if best is None:
        return None
    count, value, hits = best
    return Suggestion(value, str(RequestType(value).label), min(0.5 + 0.15 * count, 0.85), hits, "rules")


# -- gazetteer -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    pk: int
    code: str
    name: str
    aliases: tuple[str, ...]
    parent_id: int | None


def _aliases(name: str, suffixes: tuple[str, ...]) -> tuple[str, ...]:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return (name[: -len(suffix)],)
    return ()


class Gazetteer:
    """Districts and streets by name and alias ("莲花街道" and "莲花"; "福田区" and "福田")."""

    def __init__(self, districts: list[Place], streets: list[Place]):
        self.districts = districts
        self.streets = streets
        self.by_pk = {p.pk: p for p in [*districts, *streets]}

    @classmethod
    def from_db(cls) -> Gazetteer:
        from minyi.org.models import Region

        districts, streets = [], []
        for r in Region.objects.only("pk", "code", "name", "kind", "parent_id"):
            if r.kind == Region.Kind.DISTRICT:
                districts.append(Place(r.pk, r.code, r.name, _aliases(r.name, ("新区", "区")), None))
            else:
                streets.append(Place(r.pk, r.code, r.name, _aliases(r.name, ("街道", "镇")), r.parent_id))
        return cls(districts, streets)

    @staticmethod
    def _hit(place: Place, text: str) -> tuple[str, int, bool] | None:
        """(word, position, full name?) of the first mention."""
        pos = text.find(place.name)
        if pos >= 0:
            return place.name, pos, True
        for alias in place.aliases:
            pos = text.find(alias)
            if pos >= 0:
                return alias, pos, False
        return None

    def locate(self, text: str) -> tuple[Suggestion, Suggestion]:
        district_hits = {}
        for d in self.districts:
            hit = self._hit(d, text)
            if hit:
                district_hits[d.pk] = hit
        street_best: tuple[float, Place, list[str]] | None = None
        candidates = []
        for s in self.streets:
            hit = self._hit(s, text)
            if hit:
                candidates.append((s, hit))
        alias_counts: dict[str, int] = {}
        for _s, (word, _pos, _full) in candidates:
            alias_counts[word] = alias_counts.get(word, 0) + 1
        for s, (word, _pos, full) in candidates:
            score = 0.9 if full else 0.6
            reasons = [word]
            if s.parent_id in district_hits:
                score += 0.08 if full else 0.25
                reasons.append(district_hits[s.parent_id][0])
            elif district_hits:
                score -= 0.3  # another district is named
            if alias_counts[word] > 1 and s.parent_id not in district_hits:
                score /= alias_counts[word]
            if street_best is None or score > street_best[0]:
                street_best = (min(score, 0.98), s, reasons)
        street = Suggestion(None, "", 0.0, [], "gazetteer")
        district = Suggestion(None, "", 0.0, [], "gazetteer")
        if street_best is not None and street_best[0] >= 0.3:
            score, s, reasons = street_best
            street = Suggestion(s.code, s.name, round(score, 2), reasons, "gazetteer")
        if district_hits:
            pk = street_best[1].parent_id if street_best and street_best[1].parent_id in district_hits else None
            if pk is None:
                pk = min(district_hits, key=lambda k: district_hits[k][1])
            d = self.by_pk[pk]
            word, _pos, full = district_hits[pk]
            district = Suggestion(d.code, d.name, 0.95 if full else 0.8, [word], "gazetteer")
        elif street.value is not None and street_best and street_best[1].parent_id in self.by_pk:
            d = self.by_pk[street_best[1].parent_id]  # type: ignore[index]
            district = Suggestion(d.code, d.name, street.confidence, street.reasons, "gazetteer")
        return district, street


# -- categories ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryInfo:
    pk: int
    code: str
    name: str
    path: str
    level: int
    parent_id: int | None
    default_type: str
    unit_id: int | None
    unit_name: str


class Catalogue:
    """Active categories with their usual type and unit (inherited from the parent when unset),
    and the street and district offices by region."""

    def __init__(self, categories: list[CategoryInfo], region_units: dict[int, tuple[int, str]]):
        self.categories = categories
        self.by_code = {c.code: c for c in categories}
        self.by_name: dict[str, CategoryInfo] = {}
        for c in sorted(categories, key=lambda c: c.level, reverse=True):
            self.by_name[c.name] = c
        self.region_units = region_units

    @classmethod
    def from_db(cls) -> Catalogue:
        from minyi.org.models import Category, Unit

        rows = {c.pk: c for c in Category.objects.select_related("default_unit")}
        infos = []
        for c in rows.values():
            if not c.active:
                continue
            node, default_type, unit = c, c.default_type, c.default_unit
            while (not default_type or unit is None) and node.parent_id is not None:
                node = rows[node.parent_id]
                default_type = default_type or node.default_type
                unit = unit or node.default_unit
            names = [c.name]
            up = c
            while up.parent_id is not None:
                up = rows[up.parent_id]
                names.append(up.name)
            infos.append(CategoryInfo(
                c.pk, c.code, c.name, " / ".join(reversed(names)), c.level, c.parent_id,
                default_type, unit.pk if unit else None, unit.name if unit else "",
            ))
        region_units: dict[int, tuple[int, str]] = {}
        for u in Unit.objects.filter(active=True, region__isnull=False,
                                     kind__in=[Unit.Kind.STREET, Unit.Kind.DISTRICT]):
            region_units.setdefault(u.region_id, (u.pk, u.name))  # type: ignore[arg-type]
        return cls(infos, region_units)

    def by_names(self, text: str) -> Suggestion:
        """The fallback: the category whose name (or its two-character pieces) the text
        mentions most; deeper categories win ties."""
        best: tuple[float, int, CategoryInfo, list[str]] | None = None
        for c in self.categories:
            if c.name in text:
                score, hits = 1.0, [c.name]
            else:
                pieces = [c.name[i : i + 2] for i in range(len(c.name) - 1)]
                hits = [p for p in dict.fromkeys(pieces) if p in text]
                score = len(hits) / len(pieces) if pieces else 0.0
            if score > 0 and (best is None or (score, c.level) > (best[0], best[1])):
                best = (score, c.level, c, hits)
        if best is None:
            return Suggestion(None, "", 0.0, [], "names")
        score, _level, c, hits = best
        return Suggestion(c.pk, c.path, round(min(0.6, 0.6 * score), 2), hits, "names")


class Suggester:
    """Combines the models (any may be missing) with the rules, gazetteer and catalogue."""

    def __init__(self, *, category_model: TextClassifier | None = None,
                 type_model: TextClassifier | None = None,
                 external_model: TextClassifier | None = None,
                 gazetteer: Gazetteer | None = None, catalogue: Catalogue | None = None):
        self.category_model = category_model
        self.type_model = type_model
        self.external_model = external_model
        self.gazetteer = gazetteer or Gazetteer.from_db()
        self.catalogue = catalogue or Catalogue.from_db()

    def _category(self, text: str) -> Suggestion:
        by_names = self.catalogue.by_names(text)
        if self.category_model is not None:
            p = self.category_model.predict(text)
            info = self.catalogue.by_code.get(p.label)
            if info is not None:
                return Suggestion(info.pk, info.path, round(p.confidence, 2), p.reasons, "model")
        if self.external_model is not None:
            p = self.external_model.predict(text)
            info = self.catalogue.by_name.get(p.label)
            if info is not None:
                # A named sub-category of the predicted one is more precise.
                named = self.catalogue.categories
                sub = next((c for c in named if c.pk == by_names.value), None)
                if sub is not None and sub.parent_id == info.pk:
                    return Suggestion(sub.pk, sub.path, round(min(p.confidence, 0.8), 2),
                                      [*by_names.reasons, *p.reasons][:5], "model")
                return Suggestion(info.pk, info.path, round(p.confidence, 2), p.reasons, "model")
        return by_names

    def suggest(self, text: str, title: str = "") -> Suggestions:
        from minyi.tickets.choices import RequestType

        full = T.clean(f"{title} {text}")
        category = self._category(full)
        info = next((c for c in self.catalogue.categories if c.pk == category.value), None)

        kind: Suggestion | None = None
        if self.type_model is not None:
            p = self.type_model.predict(full)
            if p.label in RequestType.values:
                kind = Suggestion(p.label, str(RequestType(p.label).label), round(p.confidence, 2),
                                  p.reasons, "model")
        if kind is None:
            kind = type_by_rules(full)
        if kind is None and info is not None and info.default_type:
            kind = Suggestion(info.default_type, str(RequestType(info.default_type).label),
                              round(0.4 * max(category.confidence, 0.5), 2), [info.name], "category")
        kind = kind or Suggestion(None, "", 0.0, [], "rules")

        district, street = self.gazetteer.locate(full)
        unit = Suggestion(None, "", 0.0, [], "category")
        if info is not None and info.unit_id is not None:
            unit = Suggestion(info.unit_id, info.unit_name, round(category.confidence * 0.9, 2),
                              [info.name], "category")
        else:
            for place in (street, district):
                pk = self._region_pk(place)
                if pk is not None and pk in self.catalogue.region_units:
                    unit_pk, name = self.catalogue.region_units[pk]
                    unit = Suggestion(unit_pk, name, round(place.confidence * 0.8, 2), place.reasons, "street")
                    break
        return Suggestions(kind, category, unit, urgency(full), district, street)

    def _region_pk(self, place: Suggestion) -> int | None:
        if place.value is None:
            return None
        return next((p.pk for p in self.gazetteer.by_pk.values() if p.code == place.value), None)


# -- the process-wide engine -----------------------------------------------------------------


class Engine:
    """One per process: the model store plus the gazetteer and catalogue, refreshed at most
    every MINYI_MODEL_CHECK_SECONDS (models when their `current` pointer changes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: tuple[float, Any, Suggester] | None = None
        self._store: ModelStore | None = None

    @staticmethod
    def model_dir() -> Path:
        return Path(settings.MINYI_MODEL_DIR)

    @staticmethod
    def check_seconds() -> float:
        return float(settings.MINYI_MODEL_CHECK_SECONDS)

    def store(self) -> ModelStore:
        return ModelStore(self.model_dir(), self.check_seconds())

    def suggester(self) -> Suggester:
        now = time.monotonic()
        built = self._built
        if built is not None and now - built[0] < self.check_seconds():
            return built[2]
        with self._lock:
            store = self._store_for(self.model_dir())
            models = (store.get(CATEGORY_MODEL), store.get(TYPE_MODEL), store.get(EXTERNAL_MODEL))
            suggester = Suggester(category_model=models[0], type_model=models[1], external_model=models[2])
            self._built = (now, models, suggester)
            return suggester

    def _store_for(self, directory: Path) -> ModelStore:
        current = self._store
        if current is None or current.directory != directory:
            current = ModelStore(directory, self.check_seconds())
            self._store = current
        return current

    def reset(self) -> None:
        with self._lock:
            self._built = None
            self._store = None


engine = Engine()


def suggest(text: str, title: str = "") -> Suggestions:
    return engine.suggester().suggest(text, title)
