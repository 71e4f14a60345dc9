"""One line about the machine a benchmark ran on, so figures from different machines can be
compared: the CPU model, the cores, and the best of three runs of a fixed pure-Python loop
(5 million additions: 0.33 s on the 2-vCPU development machine of 2026-11-30). Figures that
are mostly Python scale with that time."""

from __future__ import annotations

import os
import platform
import time


def reference_loop_seconds(repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        total = 0
        for i in range(5_000_000):
            total += i
        best = min(best, time.perf_counter() - began)
    return best


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> str:
    return (f"machine: {cpu_model()}, {os.cpu_count()} CPUs; "
            f"Python reference loop {reference_loop_seconds():.2f} s (5M additions)")


if __name__ == "__main__":
    print(describe())
