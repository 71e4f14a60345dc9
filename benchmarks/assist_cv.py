"""How the category model's settings were chosen, without the test file.

    .venv/bin/python benchmarks/assist_cv.py [--data ../shared/datasets/teddy2020]

The raw rows of fj2_train_protocol.csv (from the dev file) are split in two folds. The
tokenised rows are near-copies of many raw rows, so, as the protocol does for the test set,
each fold's training leaves out the tokenised rows whose token set overlaps a validation row
by Jaccard > 0.6. Prints accuracy and macro-F1 per feature set and classifier, mean of folds.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def identity(x):
    return x


def main() -> None:
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.svm import LinearSVC

    from minyi.assist import text as T

    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "teddy2020"))
    args = parser.parse_args()
    with open(Path(args.data) / "fj2_train_protocol.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts = [r["text"] for r in rows]
    y = np.array([r["label"] for r in rows])
    src = np.array([r["source"] for r in rows])
    words = [T.analyse_words(t) for t in texts]
    chars = [T.analyse_chars(t) for t in texts]
    tok = np.where(src == "tokenized")[0]
    raw = np.where(src == "raw")[0]
    vocab = set().union(*[set(T.words(texts[i])) for i in tok])
    sets = [set(T.words(t)) & vocab for t in texts]
    binary = CountVectorizer(analyzer=identity, binary=True).fit_transform(sets).astype(np.float32)
    sizes = np.asarray(binary.sum(1)).ravel()
    rng = np.random.RandomState(1)
    rng.shuffle(raw)
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for k, val in enumerate(np.array_split(raw, 2)):
        inter = (binary[tok] @ binary[val].T).toarray()
        jaccard = (inter / np.maximum(sizes[tok][:, None] + sizes[val][None, :] - inter, 1)).max(1)
        train = np.concatenate([tok[jaccard <= 0.6], np.setdiff1d(raw, val)])
        print(f"fold {k}: {len(val)} validation rows, {int((jaccard > 0.6).sum())} near-copies left out", flush=True)
        feats = {}
        for name, docs in (("w", words), ("c", chars)):
            v = TfidfVectorizer(analyzer=identity, sublinear_tf=True, min_df=2)
            feats[name] = (v.fit_transform([docs[i] for i in train]), v.transform([docs[i] for i in val]))
        for fs in ("w", "c", "wc"):
            xtr = hstack([feats[f][0] for f in fs]).tocsr()
            xv = hstack([feats[f][1] for f in fs]).tocsr()
            for cname, clf in (("svc C=0.25", LinearSVC(C=0.25)), ("svc C=0.5", LinearSVC(C=0.5)),
                               ("svc C=1", LinearSVC(C=1)),
                               ("svc C=0.5 balanced", LinearSVC(C=0.5, class_weight="balanced"))):
                clf.fit(xtr, y[train])
                p = clf.predict(xv)
                results.setdefault((fs, cname), []).append(
                    (accuracy_score(y[val], p), f1_score(y[val], p, average="macro"))
                )
    print("mean over folds (w: words, c: characters)")
    for (fs, cname), v in sorted(results.items(), key=lambda kv: -np.mean([x[1] for x in kv[1]])):
        acc, f1 = np.mean(v, 0)
        print(f"  {fs:<3}{cname:<22} accuracy {acc:.4f}  macro-F1 {f1:.4f}")


if __name__ == "__main__":
    main()
