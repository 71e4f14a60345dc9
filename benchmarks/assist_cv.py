"""How the category model's settings were chosen, without the test file.

    .venv/bin/python benchmarks/assist_cv.py [--data ../shared/datasets/teddy2020] [--seeds 1 2 3]
    .venv/bin/python benchmarks/assist_cv.py --config default --config "linear only"

The raw rows of fj2_train_protocol.csv (from the dev file) are split in two folds, for each
seed. The tokenised rows are near-copies of many raw rows, so, as the protocol does for the
test set, each fold's training leaves out the tokenised rows whose token set overlaps a
validation row by Jaccard > 0.6 (a plain hold-out scores 0.998 and says nothing). Each
configuration of `TextClassifier` is trained on each fold's training rows and measured on its
validation rows; prints accuracy and macro-F1 (mean and standard deviation over the folds)
and the mean per-class F1.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

#: Settings compared (keyword arguments of TextClassifier); "default" is what ships.
CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "linear only": {"mlp_min_rows": 10**9},
    "network only": {"linear_weight": 0.0},
    "stopwords kept": {"drop_stopwords": False},
    "segment 250 chars": {"segment_chars": 250},
    "segment 400 chars": {"segment_chars": 400},
    "segment 800 chars": {"segment_chars": 800},
    "segment everything": {"segment_chars": 10**6},
    "min_df 3": {"min_df": 3},
}


def identity(x):
    return x


def folds(texts: list[str], sources: list[str], seeds: list[int]):
    """(seed, fold, training rows, validation rows, near-copies left out)."""
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer

    from minyi.assist import text as T

    tok = np.array([i for i, s in enumerate(sources) if s == "tokenized"])
    raw_rows = np.array([i for i, s in enumerate(sources) if s == "raw"])
    everything = 10**9
    vocab = set().union(*[set(T.words(texts[i], limit=everything)) for i in tok])
    # Tokens shared with the tokenised rows' vocabulary: the raw rows without their stopwords.
    sets = [set(T.words(t, limit=everything)) & vocab for t in texts]
    binary = CountVectorizer(analyzer=identity, binary=True).fit_transform(sets).astype(np.float32).tocsr()
    sizes = np.asarray(binary.sum(1)).ravel()
    for seed in seeds:
        raw = raw_rows.copy()
        np.random.RandomState(seed).shuffle(raw)
        for k, val in enumerate(np.array_split(raw, 2)):
            inter = (binary[tok] @ binary[val].T).toarray()
            jaccard = (inter / np.maximum(sizes[tok][:, None] + sizes[val][None, :] - inter, 1)).max(1)
            train = np.concatenate([tok[jaccard <= 0.6], np.setdiff1d(raw, val)])
            yield seed, k, train, val, int((jaccard > 0.6).sum())


def run_fold(settings: dict[str, Any], texts, labels, train, val):
    from minyi.assist.evaluation import measure
    from minyi.assist.model import TextClassifier

    started = time.perf_counter()
    model = TextClassifier(**settings).fit([texts[i] for i in train], [labels[i] for i in train])
    seconds = time.perf_counter() - started
    report = measure([labels[i] for i in val], model.predict_many([texts[i] for i in val], reasons=0))
    return report, seconds


def main() -> None:
    import numpy as np
    from joblib import Parallel, delayed

    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "teddy2020"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--config", action="append", choices=list(CONFIGS), help="default: all")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with open(Path(args.data) / "fj2_train_protocol.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    splits = list(folds(texts, [r["source"] for r in rows], args.seeds))
    for seed, k, train, val, left_out in splits:
        print(f"seed {seed} fold {k}: {len(train)} training rows, {len(val)} validation rows, "
              f"{left_out} near-copies left out", flush=True)
    for name in args.config or list(CONFIGS):
        out = Parallel(n_jobs=args.jobs)(
            delayed(run_fold)(CONFIGS[name], texts, labels, train, val) for _s, _k, train, val, _n in splits
        )
        f1 = np.array([r.macro_f1 for r, _s in out])
        acc = np.array([r.accuracy for r, _s in out])
        classes = out[0][0].labels
        per_class = {c: np.mean([r.per_class[c][2] for r, _s in out]) for c in classes}
        seconds = np.mean([s for _r, s in out])
        print(f"\n{name} {CONFIGS[name]}: macro-F1 {f1.mean():.4f} (sd {f1.std():.4f}), "
              f"accuracy {acc.mean():.4f} (sd {acc.std():.4f}), {seconds:.0f} s per training", flush=True)
        print("  " + ", ".join(f"{c} {v:.3f}" for c, v in per_class.items()), flush=True)


if __name__ == "__main__":
    main()
