"""Reading labelled CSV files and measuring a classifier: accuracy, macro-F1, per-class F1,
confusion matrix and top-k accuracy."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from minyi.assist.model import Prediction


def read_csv(path: Path | str, text_cols: Sequence[str], label_col: str) -> tuple[list[str], list[str]]:
    """(texts, labels) from a CSV; several text columns are joined with a space. Rows without
    a label are skipped."""
    texts, labels = [], []
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in [*text_cols, label_col] if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: no column {', '.join(missing)} (has {', '.join(reader.fieldnames or [])})")
        for row in reader:
            label = (row[label_col] or "").strip()
            if not label:
                continue
            texts.append(" ".join((row[c] or "") for c in text_cols))
            labels.append(label)
    return texts, labels


@dataclass
class Report:
    n: int
    accuracy: float
    macro_f1: float
    top3: float
    per_class: dict[str, tuple[float, float, float, int]]  # precision, recall, f1, support
    labels: list[str]
    confusion: list[list[int]]  # rows: true label, columns: predicted

    def format(self) -> str:
        lines = [
            f"rows: {self.n}",
            f"accuracy: {self.accuracy:.4f}",
            f"macro-F1: {self.macro_f1:.4f}",
            f"top-3 accuracy: {self.top3:.4f}",
            "",
            f"{'class':<16}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>9}",
        ]
        for label in self.labels:
            p, r, f, s = self.per_class[label]
            lines.append(f"{label:<16}{p:>10.4f}{r:>10.4f}{f:>10.4f}{s:>9d}")
        lines += ["", "confusion matrix (rows: true, columns: predicted, in the order above)"]
        width = max(5, *(len(str(v)) + 1 for row in self.confusion for v in row))
        for label, row in zip(self.labels, self.confusion, strict=True):
            lines.append(f"{label:<16}" + "".join(f"{v:>{width}d}" for v in row))
        return "\n".join(lines)


def measure(labels: Sequence[str], predictions: Sequence[Prediction]) -> Report:
    classes = sorted(set(labels) | {p.label for p in predictions})
    index = {c: i for i, c in enumerate(classes)}
    confusion = [[0] * len(classes) for _ in classes]
    top3 = 0
    for truth, pred in zip(labels, predictions, strict=True):
        confusion[index[truth]][index[pred.label]] += 1
        if truth in [label for label, _ in pred.ranked[:3]]:
            top3 += 1
    per_class = {}
    for c, i in index.items():
        tp = confusion[i][i]
        predicted = sum(row[i] for row in confusion)
        support = sum(confusion[i])
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = (precision, recall, f1, support)
    present = [c for c in classes if per_class[c][3] > 0]
    n = len(labels)
    return Report(
        n=n,
        accuracy=sum(confusion[i][i] for i in range(len(classes))) / n if n else 0.0,
        macro_f1=sum(per_class[c][2] for c in present) / len(present) if present else 0.0,
        top3=top3 / n if n else 0.0,
        per_class=per_class,
        labels=classes,
        confusion=confusion,
    )
