"""The text classifier: jieba words (and word pairs) plus character 1–3-grams, TF-IDF, and a
linear SVM calibrated to probabilities. Explains a prediction by the features that pushed the
predicted class up most."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from scipy.sparse import hstack
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC
from tqdm import tqdm

from minyi.assist import text as T

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    ranked: list[tuple[str, float]]  # every class, most probable first
    reasons: list[str] = field(default_factory=list)


def _words_analyzer(text: str) -> list[str]:
    return T.analyse_words(text)


def _chars_analyzer(text: str) -> list[str]:
    return T.analyse_chars(text)


class TextClassifier:
    """Fit on (text, label) pairs; predict a label with its probability and reasons."""

    def __init__(self, *, c: float = 0.5, min_df: int = 2, calibration_folds: int = 3,
                 class_weight: str | None = "balanced"):
        # Chosen by 2-fold cross-validation on the teddy2020 training file's raw rows, with
        # near-duplicate tokenised rows (token Jaccard > 0.6) left out of each fold's training
        # (benchmarks/assist_cv.py); never on the test file.
        self.c = c
        self.class_weight = class_weight
        self.min_df = min_df
        self.calibration_folds = calibration_folds
        self.meta: dict[str, Any] = {}
        self.classes_: np.ndarray = np.array([])

    # -- training ----------------------------------------------------------------------------
    def _vectorizers(self) -> list[TfidfVectorizer]:
        return [
            TfidfVectorizer(analyzer=_words_analyzer, sublinear_tf=True, min_df=self.min_df),
            TfidfVectorizer(analyzer=_chars_analyzer, sublinear_tf=True, min_df=self.min_df),
        ]

    def fit(self, texts: Sequence[str], labels: Sequence[str], *, progress: bool = False,
            source: str = "") -> TextClassifier:
        started = time.perf_counter()
        docs = list(tqdm(texts, desc="read", unit="text", disable=not progress, leave=False))
        labels = [str(label) for label in labels]
        counts: dict[str, int] = {}
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
        min_df = self.min_df if len(docs) >= 200 else 1
        self.vectorizers = self._vectorizers()
        for v in self.vectorizers:
            v.min_df = min_df
        steps = tqdm(total=len(self.vectorizers) + 1, desc="train", disable=not progress, leave=False)
        mats = []
        for v in self.vectorizers:
            mats.append(v.fit_transform(docs))
            steps.update()
        x = hstack(mats).tocsr()
        folds = min(self.calibration_folds, min(counts.values()))
        svm = LinearSVC(C=self.c, class_weight=self.class_weight)
        if folds >= 2 and len(counts) >= 2:
            model = CalibratedClassifierCV(svm, cv=folds, method="sigmoid", ensemble=False)
            model.fit(x, labels)
            self.model: Any = model
            self.svm = model.calibrated_classifiers_[0].estimator
        else:
            svm.fit(x, labels)
            self.model = svm
            self.svm = svm
        steps.update()
        steps.close()
        self.classes_ = np.asarray(self.model.classes_)
        self.feature_names = np.concatenate([v.get_feature_names_out() for v in self.vectorizers])
        self.meta = {
            "format": FORMAT_VERSION,
            "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "rows": len(docs),
            "classes": {str(k): v for k, v in sorted(counts.items())},
            "features": int(x.shape[1]),
            "seconds": round(time.perf_counter() - started, 2),
            "source": source,
        }
        return self

    # -- prediction --------------------------------------------------------------------------
    def _x(self, texts: Iterable[str]):
        docs = list(texts)
        return hstack([v.transform(docs) for v in self.vectorizers]).tocsr()

    def _proba(self, x) -> np.ndarray:
        if hasattr(self.model, "predict_proba"):
            return np.asarray(self.model.predict_proba(x))
        scores = np.atleast_2d(self.model.decision_function(x))
        if scores.shape[1] == 1:  # two classes: one margin
            scores = np.hstack([-scores, scores])
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def predict(self, text: str, *, reasons: int = 5) -> Prediction:
        """One text, without sklearn's per-call overhead (the per-ticket path: about 1 ms).
        Gives the same result as `predict_many`."""
        idx, vals = self._vector(text)
        scores = self.svm.coef_[:, idx] @ vals + self.svm.intercept_
        proba = self._calibrate(scores)
        order = np.argsort(-proba)
        ranked = [(str(self.classes_[i]), float(proba[i])) for i in order]
        best = int(order[0])
        words = self._top_features(idx, vals, best, reasons) if reasons else []
        return Prediction(ranked[0][0], ranked[0][1], ranked, words)

    def _vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The TF-IDF row of `text` as (feature indices, values), blocks as in training."""
        all_idx, all_vals = [], []
        offset = 0
        for v in self.vectorizers:
            counts: dict[int, int] = {}
            vocabulary = v.vocabulary_
            for feature in v.analyzer(text):  # type: ignore[operator]
                j = vocabulary.get(feature)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if counts:
                idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                vals = (np.log(tf) + 1.0) * v.idf_[idx]
                vals /= np.sqrt(np.dot(vals, vals))
                all_idx.append(idx + offset)
                all_vals.append(vals)
            offset += len(vocabulary)
        if not all_idx:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(all_idx), np.concatenate(all_vals)

    def _calibrate(self, scores: np.ndarray) -> np.ndarray:
        if isinstance(self.model, CalibratedClassifierCV):
            calibrators = self.model.calibrated_classifiers_[0].calibrators
            if len(self.classes_) == 2:
                p1 = 1.0 / (1.0 + np.exp(calibrators[0].a_ * scores[0] + calibrators[0].b_))
                return np.array([1.0 - p1, p1])
            proba = np.array([1.0 / (1.0 + np.exp(c.a_ * f + c.b_)) for c, f in zip(calibrators, scores, strict=True)])
            total = proba.sum()
            return proba / total if total > 0 else np.full(len(proba), 1.0 / len(proba))
        if len(self.classes_) == 2:
            scores = np.array([-scores[0], scores[0]])
        e = np.exp(scores - scores.max())
        return np.asarray(e / e.sum())

    def predict_many(self, texts: Sequence[str], *, reasons: int = 5,
                     progress: bool = False) -> list[Prediction]:
        out: list[Prediction] = []
        batch = 256
        bar = tqdm(total=len(texts), desc="predict", disable=not progress, leave=False)
        for start in range(0, len(texts), batch):
            x = self._x(texts[start : start + batch])
            proba = self._proba(x)
            for row in range(x.shape[0]):
                order = np.argsort(-proba[row])
                best = int(order[0])
                ranked = [(str(self.classes_[i]), float(proba[row, i])) for i in order]
                words = self._reasons(x[row], best, reasons) if reasons else []
                out.append(Prediction(ranked[0][0], ranked[0][1], ranked, words))
            bar.update(x.shape[0])
        bar.close()
        return out

    def _reasons(self, xrow, cls: int, limit: int) -> list[str]:
        return self._top_features(xrow.indices, xrow.data, cls, limit)

    def _top_features(self, idx: np.ndarray, vals: np.ndarray, cls: int, limit: int) -> list[str]:
        coef = self.svm.coef_
        if not len(idx):
            return []
        weights = coef[0, idx] * (1 if cls == 1 else -1) if coef.shape[0] == 1 else coef[cls, idx]
        contrib = vals * weights
        picked: list[str] = []
        for j in np.lexsort((idx, -np.round(contrib, 10))):  # ties: by feature
            if contrib[j] <= 0 or len(picked) >= limit:
                break
            name = str(self.feature_names[idx[j]]).replace(" ", "")
            if len(name) < 2 or any(name in p or p in name for p in picked):
                continue
            picked.append(name)
        return picked


# -- files ---------------------------------------------------------------------------------


def save(model: TextClassifier, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    joblib.dump(model, tmp, compress=3)
    os.replace(tmp, path)
    return path


def load(path: Path) -> TextClassifier:
    model = joblib.load(path)
    if not isinstance(model, TextClassifier):
        raise ValueError(f"{path} is not a Minyi text model")
    return model


class ModelStore:
    """Versioned model files in one directory: `<name>-<timestamp>.joblib`, and `<name>.current`
    naming the one in use. `get` reloads when the pointer changes, checking at most every
    `check_seconds`."""

    def __init__(self, directory: Path, check_seconds: float = 5.0):
        self.directory = Path(directory)
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, tuple[str, float] | None, TextClassifier | None]] = {}

    def pointer(self, name: str) -> Path:
        return self.directory / f"{name}.current"

    def publish(self, name: str, model: TextClassifier) -> Path:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = save(model, self.directory / f"{name}-{stamp}.joblib")
        pointer = self.pointer(name)
        tmp = pointer.with_suffix(".tmp")
        tmp.write_text(path.name + "\n", encoding="utf-8")
        os.replace(tmp, pointer)
        return path

    def current_path(self, name: str) -> Path | None:
        try:
            target = self.pointer(name).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        path = self.directory / target
        return path if target and path.exists() else None

    def get(self, name: str) -> TextClassifier | None:
        now = time.monotonic()
        cached = self._cache.get(name)
        if cached is not None and now - cached[0] < self.check_seconds:
            return cached[2]
        with self._lock:
            path = self.current_path(name)
            key = (path.name, path.stat().st_mtime) if path is not None else None
            if cached is not None and cached[1] == key:
                model = cached[2]
            else:
                model = load(path) if path is not None else None
            self._cache[name] = (now, key, model)
            return model
