"""Reply-quality screening (`minyi.supervision.quality`): the figures, from the teddy2020 data.

    .venv/bin/python benchmarks/quality.py                 # all figures
    .venv/bin/python benchmarks/quality.py --sample        # print the labelling sample (row, id, stratum, split)
    .venv/bin/python benchmarks/quality.py --build-stats   # rebuild src/minyi/supervision/data/relevance_stats.tsv.gz

Figures (criteria and labels: docs/quality-screening.md):
1. relevance AUC on fj4_messages_with_replies.csv: every message with its own reply (positive)
   and with the reply of another message drawn with a fixed seed (negative). The statistics
   (IDF, topic weights) are learned from fj2_train_protocol.csv and fj3 — never from fj4 — and
   the two blending constants were chosen on the even rows of fj4, so the odd rows are reported
   apart as the held-out half.
2. perfunctory detection against tests/data/perfunctory_labels.csv (labelled by reading the
   replies, before the detector was written): precision and recall on the `tune` half, the
   `holdout` half and all; the same for undated promises.
3. pasted replies: near-identical replies across fj4 given to unrelated requests (a count,
   not a measure: the data set has no unit column and no labels for this rule).
4. speed: relevance() and full screenings (`screen`, alone and with 50 other replies) per second.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

DATA = ROOT.parent / "shared" / "datasets" / "teddy2020"
LABELS = ROOT / "tests" / "data" / "perfunctory_labels.csv"
SEED = 20201  # the labelling sample
PAIR_SEED = 7  # negative pairs for the AUC

_ARTEFACT = re.compile(r"_x000D_")
_SPACE = re.compile(r"\s+")


def tidy(text: str) -> str:
    """The data set's artefacts (`_x000D_`, tabs, runs of whitespace) removed."""
    return _SPACE.sub(" ", _ARTEFACT.sub(" ", text or "")).strip()


def read_fj4(data: Path) -> list[dict[str, str]]:
    with open(data / "fj4_messages_with_replies.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [
        {
            "id": r["留言编号"],
            "request": tidy(r["留言主题"]) + "\n" + tidy(r["留言详情"]),
            "reply": tidy(r["答复意见"]),
        }
        for r in rows
    ]


# ------------------------------------------------------------------------------------------
# The labelling sample
# ------------------------------------------------------------------------------------------

PHRASING = re.compile("收悉|收到|获悉|已转|转交|尽快|近期|后续|下一步|跟进")
SIZES = {"short": 100, "medium": 100, "phrasing": 60, "other": 60}


def sample(rows: list[dict[str, str]]) -> list[tuple[int, str, str, str]]:
    """(row, message id, stratum, split) of the labelled sample (docs/quality-screening.md)."""
    strata: dict[str, list[int]] = {name: [] for name in SIZES}
    for i, r in enumerate(rows):
        n = len(r["reply"])
        if n < 40:
            strata["short"].append(i)
        elif n < 150:
            strata["medium"].append(i)
        elif PHRASING.search(r["reply"]):
            strata["phrasing"].append(i)
        else:
            strata["other"].append(i)
    rng = random.Random(SEED)
    out = []
    for name, idx in strata.items():
        for k, i in enumerate(rng.sample(idx, SIZES[name])):
            out.append((i, rows[i]["id"], name, "tune" if k % 2 == 0 else "holdout"))
    return out


# ------------------------------------------------------------------------------------------
# Statistics
# ------------------------------------------------------------------------------------------


def build_stats(data: Path, out: Path) -> None:
    from minyi.supervision.quality import RelevanceStats

    with open(data / "fj4_messages_with_replies.csv", encoding="utf-8", newline="") as fh:
        fj4_starts = {tidy(r["留言详情"])[:50] for r in csv.DictReader(fh)}
    with open(data / "fj2_train_protocol.csv", encoding="utf-8", newline="") as fh:
        fj2 = [(r["text"], r["label"]) for r in csv.DictReader(fh)]
    with open(data / "fj3_messages_with_votes.csv", encoding="utf-8", newline="") as fh:
        fj3 = [
            tidy(r["留言主题"]) + " " + tidy(r["留言详情"])
            for r in csv.DictReader(fh)
            if tidy(r["留言详情"])[:50] not in fj4_starts
        ]
    texts = [t for t, _ in fj2] + fj3
    min_df, min_topic_df = 3, 10
    stats = RelevanceStats.build(texts, fj2, min_df=min_df, min_topic_df=min_topic_df)
    out.parent.mkdir(parents=True, exist_ok=True)
    stats.save(out)
    print(
        f"{out}: {stats.documents} documents (fj2_train_protocol {len(fj2)}, fj3 {len(fj3)} "
        f"not also in fj4), {len(stats.df)} bigrams with df >= {min_df}, {len(stats.topic)} topic bigrams "
        f"(in >= {min_topic_df} labelled messages), "
        f"{out.stat().st_size / 1e6:.2f} MB"
    )


# ------------------------------------------------------------------------------------------
# Figures
# ------------------------------------------------------------------------------------------


def auc(pos: list[float], neg: list[float]) -> float:
    """Probability that a positive outscores a negative (ties count half)."""
    scored = sorted([(s, 1) for s in pos] + [(s, 0) for s in neg])
    rank_sum = 0.0
    i = 0
    while i < len(scored):
        j = i
        while j < len(scored) and scored[j][0] == scored[i][0]:
            j += 1
        mid = (i + 1 + j) / 2
        rank_sum += mid * sum(1 for k in range(i, j) if scored[k][1] == 1)
        i = j
    p, q = len(pos), len(neg)
    return (rank_sum - p * (p + 1) / 2) / (p * q)


def relevance_figures(rows: list[dict[str, str]]) -> None:
    from minyi.supervision import quality

    n = len(rows)
    rng = random.Random(PAIR_SEED)
    other = []
    for i in range(n):
        j = rng.randrange(n - 1)
        other.append(j + 1 if j >= i else j)
    pos = [quality.relevance(r["request"], r["reply"]) for r in rows]
    neg = [quality.relevance(rows[i]["request"], rows[other[i]]["reply"]) for i in range(n)]
    substantive = [i for i in range(n) if quality.perfunctory_reason(rows[i]["reply"]) is None]

    def pick(idx: list[int]) -> float:
        return auc([pos[i] for i in idx], [neg[i] for i in idx])

    everything = list(range(n))
    print(f"== 1. Relevance: own reply vs another message's reply (fj4, {n} pairs each)")
    print(f"  AUC all rows             {pick(everything):.4f}")
    print(f"  AUC even rows (tuning)   {pick(everything[0::2]):.4f}")
    print(f"  AUC odd rows (held out)  {pick(everything[1::2]):.4f}")
    print(f"  AUC where the own reply has substance ({len(substantive)} rows, perfunctory ones left out) "
          f"{pick(substantive):.4f}")
    for cut in (0.05, 0.1, 0.15):
        own = sum(1 for i in substantive if pos[i] < cut) / len(substantive)
        shuffled = sum(1 for i in substantive if neg[i] < cut) / len(substantive)
        print(f"  relevance_min {cut:.2f}: flags {own:6.1%} of own replies with substance, "
              f"{shuffled:6.1%} of shuffled replies")
    print(f"  medians: own {statistics.median(pos):.3f}, shuffled {statistics.median(neg):.3f}")


def prf(truth: list[int], guess: list[int]) -> str:
    tp = sum(1 for t, g in zip(truth, guess, strict=True) if t and g)
    fp = sum(1 for t, g in zip(truth, guess, strict=True) if not t and g)
    fn = sum(1 for t, g in zip(truth, guess, strict=True) if t and not g)
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    return f"precision {p:.3f}  recall {r:.3f}  (tp {tp}, fp {fp}, fn {fn}, n {len(truth)})"


def label_figures(rows: list[dict[str, str]], show_errors: str | None) -> None:
    from minyi.supervision import quality

    with open(LABELS, encoding="utf-8", newline="") as fh:
        labels = list(csv.DictReader(fh))
    for lab in labels:
        assert rows[int(lab["row"])]["id"] == lab["message_id"], lab
    print(f"\n== 2. Perfunctory replies vs {LABELS.relative_to(ROOT)} ({len(labels)} labelled rows)")
    guesses = {}
    promises = {}
    for lab in labels:
        r = rows[int(lab["row"])]
        result = quality.screen(r["request"], r["reply"])
        guesses[lab["row"]] = int(result.perfunctory)
        promises[lab["row"]] = int(quality.UNDATED_PROMISE in result.codes)
    for split in ("tune", "holdout", None):
        part = [lab for lab in labels if split is None or lab["split"] == split]
        name = split or "all"
        print(f"  perfunctory  {name:8} " + prf([int(x["label"]) for x in part], [guesses[x["row"]] for x in part]))
    for split in ("tune", "holdout", None):
        part = [lab for lab in labels if split is None or lab["split"] == split]
        name = split or "all"
        print(f"  undated promise {name:8} "
              + prf([int(x["undated_promise"]) for x in part], [promises[x["row"]] for x in part]))
    by_stratum: dict[str, list[dict[str, str]]] = {}
    for lab in labels:
        by_stratum.setdefault(lab["stratum"], []).append(lab)
    for name, part in by_stratum.items():
        truth = [int(x["label"]) for x in part]
        guess = [guesses[x["row"]] for x in part]
        if any(truth):
            print(f"  perfunctory, stratum {name:9} " + prf(truth, guess))
        else:
            print(f"  perfunctory, stratum {name:9} no perfunctory reply; flagged {sum(guess)} of {len(part)}")
    flagged = dict.fromkeys((quality.PERFUNCTORY, quality.UNDATED_PROMISE, quality.IRRELEVANT), 0)
    for r in rows:
        for code in quality.screen(r["request"], r["reply"]).codes:
            flagged[code] = flagged.get(code, 0) + 1
    print(f"  all {len(rows)} fj4 replies, one by one (no other replies): "
          + ", ".join(f"{code} {n} ({n / len(rows):.1%})" for code, n in flagged.items()))
    if show_errors:
        print(f"\n  errors on the {show_errors} split:")
        for lab in labels:
            if lab["split"] != show_errors:
                continue
            r = rows[int(lab["row"])]
            for kind, wanted, got in (("P", int(lab["label"]), guesses[lab["row"]]),
                                      ("U", int(lab["undated_promise"]), promises[lab["row"]])):
                if wanted != got:
                    extra = quality.undated_promises(r["reply"]) if kind == "U" else quality.substance(r["reply"]).kept
                    print(f"  {kind} row {lab['row']} truth {wanted} guess {got} [{lab['criterion']}] {r['reply'][:160]}")
                    print(f"      -> {extra}")


def pasted_figures(rows: list[dict[str, str]]) -> None:
    """Near-identical replies across fj4 (the data set has no unit column, so every reply is
    compared with every other one): how many pairs, and how many answer unrelated requests."""
    import numpy as np
    from scipy.sparse import csr_matrix

    from minyi.supervision import quality

    t = quality.Thresholds()
    sets = [quality.shingles(r["reply"]) for r in rows]
    vocab: dict[str, int] = {}
    indices: list[int] = []
    indptr = [0]
    for s in sets:
        indices.extend(vocab.setdefault(g, len(vocab)) for g in s)
        indptr.append(len(indices))
    m = csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(rows), len(vocab)))
    inter = (m @ m.T).toarray()
    sizes = np.array([len(s) for s in sets], dtype=float)
    jaccard = inter / np.maximum(sizes[:, None] + sizes[None, :] - inter, 1.0)
    pairs = [(int(i), int(j)) for i, j in np.argwhere(np.triu(jaccard >= t.duplicate_similarity, k=1))]
    unrelated = [
        (i, j) for i, j in pairs
        if quality.request_similarity(rows[i]["request"], rows[j]["request"]) < t.unrelated_request_max
    ]
    replies = {i for pair in unrelated for i in pair}
    stock = sum(1 for i in replies if quality.perfunctory_reason(rows[i]["reply"]) is not None)
    print(f"\n== 3. Pasted replies across fj4 (every reply compared with every other; Jaccard >= "
          f"{t.duplicate_similarity}, request similarity < {t.unrelated_request_max})")
    print(f"  {len(pairs)} pairs of near-identical replies, {len(unrelated)} of them to unrelated requests; "
          f"{len(replies)} replies involved, {stock} of which are also perfunctory by themselves")


def speed_figures(rows: list[dict[str, str]], repeat: int) -> None:
    """CPU time of this process (time.process_time), so that other work on the machine does not
    count; the wall-clock figure is printed too."""
    from minyi.supervision import quality

    quality.default_stats()
    quality.screen("热身", "热身")
    pairs = [(r["request"], r["reply"]) for r in rows]

    def timed(run) -> tuple[float, float]:
        best_cpu = best_wall = float("inf")
        for _ in range(repeat):
            cpu, wall = time.process_time(), time.perf_counter()
            run()
            best_cpu = min(best_cpu, time.process_time() - cpu)
            best_wall = min(best_wall, time.perf_counter() - wall)
        return best_cpu, best_wall

    def alone() -> None:
        for req, rep in pairs:
            quality.screen(req, rep)

    def relevance_only() -> None:
        for req, rep in pairs:
            quality.relevance(req, rep)

    rng = random.Random(3)
    peers = [pairs[i] for i in rng.sample(range(len(pairs)), 50)]
    subset = pairs[:500]

    def with_peers() -> None:
        for req, rep in subset:
            quality.screen(req, rep, other_replies=peers)

    print(f"\n== 4. Speed (best of {repeat} runs, one core, CPU time of the process; wall clock in brackets)")
    for name, run, n in (("relevance() alone", relevance_only, len(pairs)),
                         ("screen(), no other replies", alone, len(pairs)),
                         ("screen() with the same 50 other replies", with_peers, len(subset))):
        cpu, wall = timed(run)
        print(f"  {name:42} {n / cpu:8,.0f}/s  {cpu / n * 1000:6.3f} ms each  "
              f"[{n / wall:,.0f}/s, {wall / n * 1000:.3f} ms]")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--sample", action="store_true", help="print the labelling sample and exit")
    parser.add_argument("--build-stats", action="store_true", help="rebuild the shipped statistics and exit")
    parser.add_argument("--errors", choices=["tune", "holdout"], help="list disagreements on one split")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["relevance", "labels", "pasted", "speed"])
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "fj4_messages_with_replies.csv").exists():
        sys.exit(f"dataset not found under {data}")
    if args.build_stats:
        from minyi.supervision.quality import STATS_PATH

        build_stats(data, STATS_PATH)
        return
    rows = read_fj4(data)
    if args.sample:
        for row in sample(rows):
            print(*row, sep=",")
        return
    if args.only in (None, "relevance"):
        relevance_figures(rows)
    if args.only in (None, "labels"):
        label_figures(rows, args.errors)
    if args.only in (None, "pasted"):
        pasted_figures(rows)
    if args.only in (None, "speed"):
        speed_figures(rows, args.repeat)


if __name__ == "__main__":
    main()
