"""Throughput of the synthetic census generator for one reporting year.

    .venv/bin/python benchmarks/bench_generate.py --scale 1 --year 2020 --workers 2

Prints a table: wall time, returns, child records, episodes, MB written, children/s and MB/s. The output
folder is a temporary directory unless --out is given.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from cin_assets.synth import generate_census


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--year", type=int, default=2020)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        started = time.perf_counter()
        results = generate_census(out, [args.year], args.scale, args.seed, workers=args.workers)
        wall = time.perf_counter() - started
    returns = [r for la in results for r in la.returns]
    children = sum(r.children for r in returns)
    episodes = sum(r.episodes for r in returns)
    mb = sum(r.bytes for r in returns) / 1e6
    rows = [
        ("year", str(args.year)),
        ("scale", f"{args.scale:g}"),
        ("workers", str(args.workers)),
        ("wall time (s)", f"{wall:.1f}"),
        ("returns", f"{len(returns)}"),
        ("child records", f"{children:,}"),
        ("episodes", f"{episodes:,}"),
        ("XML written (MB)", f"{mb:,.1f}"),
        ("children / s", f"{children / wall:,.0f}"),
        ("MB / s", f"{mb / wall:,.1f}"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}}  value")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
