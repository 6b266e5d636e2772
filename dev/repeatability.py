"""How repeatable a series of capacity runs is: each run's model-alone and pipeline fps, their
medians, how far the furthest run strays from the median, and the pipeline/model ratio.

    python dev/repeatability.py RUNS.jsonl     (one `bench --json` object a line; dev/benchmark.sh)

Issue 17's target: every run's raw_fps within 10% of the median, and a median ratio of at least
0.85. This prints the numbers and says whether they meet it; it never fails a build.
"""

import json
import statistics
import sys
from pathlib import Path


def spread_percent(values: list[float]) -> float:
    """How far the furthest value strays from the median, in percent of the median."""
    middle = statistics.median(values)
    return 100.0 * max(abs(value - middle) for value in values) / middle


def main(path: str) -> None:
    runs = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    raw = [run["raw_fps"] for run in runs]
    pipeline = [run["pipeline_fps"] for run in runs]
    ratios = [p / r for p, r in zip(pipeline, raw, strict=True)]
    print(f"{'run':>4}{'raw fps':>10}{'pipeline':>10}{'ratio':>8}")
    for index, (r, p, ratio) in enumerate(zip(raw, pipeline, ratios, strict=True), start=1):
        print(f"{index:>4}{r:>10.1f}{p:>10.1f}{ratio:>8.2f}")
    print(
        f"raw fps median {statistics.median(raw):.1f}, furthest run {spread_percent(raw):.1f}% "
        f"away; pipeline fps median {statistics.median(pipeline):.1f}, furthest "
        f"{spread_percent(pipeline):.1f}% away; ratio median {statistics.median(ratios):.2f} "
        f"({min(ratios):.2f}-{max(ratios):.2f})"
    )
    met = spread_percent(raw) <= 10 and statistics.median(ratios) >= 0.85
    print(f"target (raw within 10%, median ratio >= 0.85): {'met' if met else 'missed'}")


if __name__ == "__main__":
    main(sys.argv[1])
