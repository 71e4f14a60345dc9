"""Category model on the teddy2020 protocol (../shared/datasets/README.md), plus latency.

    .venv/bin/python benchmarks/assist.py [--data ../shared/datasets/teddy2020]

Trains on fj2_train_protocol.csv (text, label), measures on fj2_marsw20_test_raw.csv
(text_title_plus_detail, 一级分类) — the test file is never used for training or choices — and
on the hotline phrasings written by us (src/minyi/assist/data/hotline_sanity.csv). Then times
the full suggestion (`minyi.assist.suggest.suggest`) per ticket on the test texts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "teddy2020"))
    parser.add_argument("--latency-samples", type=int, default=500)
    args = parser.parse_args()
    data = Path(args.data)
    train_file = data / "fj2_train_protocol.csv"
    test_file = data / "fj2_marsw20_test_raw.csv"
    if not train_file.exists() or not test_file.exists():
        sys.exit(f"dataset not found under {data}")

    from minyi.assist.evaluation import measure, read_csv
    from minyi.assist.model import TextClassifier

    texts, labels = read_csv(train_file, ["text"], "label")
    started = time.perf_counter()
    model = TextClassifier().fit(texts, labels, progress=True, source=train_file.name)
    print(f"training: {len(texts)} rows, {model.meta['features']} features, "
          f"{model.meta['stopwords']} stopwords learnt, {time.perf_counter() - started:.1f} s")

    test_texts, test_labels = read_csv(test_file, ["text_title_plus_detail"], "一级分类")
    started = time.perf_counter()
    report = measure(test_labels, model.predict_many(test_texts, progress=True))
    elapsed = time.perf_counter() - started
    print(f"\n== {test_file.name} ({elapsed / len(test_texts) * 1000:.2f} ms per text incl. reasons)")
    print(report.format())

    sanity = ROOT / "src" / "minyi" / "assist" / "data" / "hotline_sanity.csv"
    s_texts, s_labels = read_csv(sanity, ["text"], "label")
    s_preds = model.predict_many(s_texts)
    s_report = measure(s_labels, s_preds)
    right = sum(p.label == truth for truth, p in zip(s_labels, s_preds, strict=True))
    print(f"\n== hotline phrasings ({sanity.name}): {right}/{len(s_labels)} right, accuracy "
          f"{s_report.accuracy:.3f}, macro-F1 {s_report.macro_f1:.3f}, top-3 {s_report.top3:.3f}")
    for t, truth, p in zip(s_texts, s_labels, s_preds, strict=True):
        mark = "ok " if p.label == truth else "XX "
        print(f"  {mark}{p.label}({p.confidence:.2f}) want {truth}: {t[:30]}… [{'、'.join(p.reasons[:3])}]")

    # Latency of the whole suggestion with this model installed as the category model.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minyi.settings_test")
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()
    from django.db import connection

    connection.creation.create_test_db(verbosity=0, serialize=False)
    from minyi.assist import suggest as sg

    engine = sg.Suggester(category_model=model, type_model=None)
    engine.suggest(test_texts[0])
    board = test_texts[: args.latency_samples]
    longest = sorted(test_texts, key=len)[-max(1, len(test_texts) // 10):]
    for what, samples in (("board messages (test file)", board),
                          ("the longest tenth of the board messages", longest),
                          ("hotline phrasings x10", s_texts * 10)):
        times = []
        for t in samples:
            t0 = time.perf_counter()
            engine.suggest(t)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        chars = statistics.mean(len(t) for t in samples)
        print(f"\nsuggestion latency, {what}, {len(times)} tickets, mean {chars:.0f} characters: "
              f"p50 {statistics.median(times):.2f} ms, p95 {times[int(len(times) * 0.95) - 1]:.2f} ms, "
              f"max {times[-1]:.2f} ms")


if __name__ == "__main__":
    main()
