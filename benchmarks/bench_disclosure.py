"""Disclosure control for one reporting year at national scale: suppression, then every check.

Usage: ``python benchmarks/bench_disclosure.py [--runs 3] [--seed 0] [--year 2020] [--census DIR]``

By default the year is a synthetic release shaped like the 2020 one (``cin_assets_tests.disclosure.release``):
28 data sets (19 wide LA-level files with 163 rows, an ONS population file, 8 national files with filters or
republished rows), linked through shared measures, with LA volumes drawn around the real 2020 LA figures.
With ``--census DIR`` the 28 unprotected frames come from the real pipeline instead (``DIR/<year>/*.xml``
and ``DIR/<year-1>/*.xml``, e.g. a census made by ``cin-synth``), measured with the real catalogue.

Each run times ``protect_year`` (model, suppression, formatting) and ``check_year`` (pandera schemas and
EES naming rules per file, then linked cells, additive groups and the LP attack audit), and reports
process CPU seconds as well as wall seconds (other work on the machine inflates wall time). It prints the
medians, the suppression statistics and cells primary/secondary/derived per file; the results also go
to ``benchmarks/results/disclosure.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the synthetic release lives with the tests (cin_assets_tests)

from cin_assets.datasets.description import DataSet  # noqa: E402
from cin_assets.disclosure import check_year, protect_year, suppression_summary  # noqa: E402


def synthetic_year(year: int, seed: int) -> tuple[dict[str, pl.DataFrame], dict[str, DataSet]]:
    from cin_assets_tests.disclosure import release

    datasets = release.descriptions()
    return release.frames(datasets, year=year, seed=seed), datasets


def pipeline_year(census: Path, year: int) -> tuple[dict[str, pl.DataFrame], dict[str, DataSet]]:
    from cin_assets.census.reader import census_files, read_returns
    from cin_assets.datasets.catalogue import DATASETS
    from cin_assets.measures import build

    tables = read_returns(census_files(census, year), year=year)
    previous = read_returns(census_files(census, year - 1), year=year - 1)
    frames: dict[str, pl.DataFrame] = {}
    for code, ds in sorted(DATASETS.items(), key=lambda item: bool(item[1].summary)):
        frames[code] = build(ds, year, tables, previous, frames)
    return {c: f for c, f in frames.items() if f.height}, dict(DATASETS)


def timed(fn):
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--year", type=int, default=2020)
    parser.add_argument("--census", type=Path, help="census folder: use the real pipeline's frames")
    args = parser.parse_args()

    if args.census:
        frames, datasets = pipeline_year(args.census, args.year)
    else:
        frames, datasets = synthetic_year(args.year, args.seed)
    count_cells = sum(f.height * len(datasets[c].counts()) for c, f in frames.items())
    print(
        f"{len(frames)} data sets, {sum(f.height for f in frames.values())} rows, {count_cells} count cells"
    )

    runs = []
    for run in range(args.runs):
        protected, p_cpu, p_wall = timed(lambda: protect_year(frames, datasets))
        outcomes, c_cpu, c_wall = timed(lambda p=protected: check_year(p.published, datasets))
        audit = next(o for o in outcomes if o.name == "lp_audit")
        failed = [(o.name, o.dataset) for o in outcomes if not o.passed]
        runs.append(
            {
                "protect_cpu": p_cpu,
                "protect_wall": p_wall,
                "check_cpu": c_cpu,
                "check_wall": c_wall,
                "audit_seconds": audit.metadata["seconds"],
                "failed_checks": failed,
            }
        )
        print(
            f"run {run + 1}: protect {p_wall:.2f}s wall ({p_cpu:.2f}s cpu), check_year {c_wall:.2f}s wall "
            f"({c_cpu:.2f}s cpu; LP audit {audit.metadata['seconds']:.2f}s), failed checks: {failed or 'none'}"
        )

    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    summary = suppression_summary(protected, datasets)
    stats = {k: v for k, v in protected.stats.items() if isinstance(v, int | float)}
    total_wall, total_cpu = (
        median("protect_wall") + median("check_wall"),
        median("protect_cpu") + median("check_cpu"),
    )
    print(
        f"\nmedian: protect {median('protect_wall'):.2f}s + check_year {median('check_wall'):.2f}s = {total_wall:.2f}s wall"
    )
    print(f"        ({median('protect_cpu'):.2f}s + {median('check_cpu'):.2f}s = {total_cpu:.2f}s cpu)")
    print("suppression:", ", ".join(f"{k}={v}" for k, v in stats.items()))
    print("audit:", ", ".join(f"{k}={v}" for k, v in audit.metadata.items() if k != "first_failures"))
    with pl.Config(tbl_rows=40, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(summary)
    out = ROOT / "benchmarks" / "results" / "disclosure.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "source": str(args.census) if args.census else f"synthetic seed {args.seed}",
                "year": args.year,
                "count_cells": count_cells,
                "runs": runs,
                "median_total_wall": total_wall,
                "median_total_cpu": total_cpu,
                "suppression": stats,
                "audit": {k: v for k, v in audit.metadata.items() if k != "first_failures"},
                "per_file": summary.to_dicts(),
            },
            indent=2,
        )
    )
    print(f"results: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
