"""Check the pipeline against the real published 2020 figures on a national census generated at scale 1.

    .venv/bin/python benchmarks/check_calibration.py                 # generate into a temporary folder
    .venv/bin/python benchmarks/check_calibration.py --census data/census --year 2020   # reuse returns

For the calibrated measures (Referrals, At31_episodes, Section47, ICPC, CPP_start, CPP_At31) every LA's
unprotected value must equal its published value (published ``c``/``x`` cells are skipped and counted),
and England, the sum of the LAs rounded to the nearest 10, must equal the published England figure
(referrals 642,980; children in need at 31 March 389,260; section 47 enquiries 201,000; ICPCs 77,470;
CPPs at 31 March 51,510; CPPs starting 66,380). Any year 2013-2025 with ``--year``; from 2021 England also
holds, as DfE's totals do, the figures of the LAs DfE carried forward (Hackney 2021-2022, Hampshire 2024:
no return in the census). Exit status 0 when all hold, 1 otherwise. Also prints the time taken by each
stage.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from cin_assets.census.reader import census_files, read_returns
from cin_assets.datasets.catalogue import DATASETS
from cin_assets.measures import build
from cin_assets.measures.calibration import CALIBRATED, compare_england, compare_las
from cin_assets.synth import generate_census


def _check(census: Path, args: argparse.Namespace) -> int:
    timings: list[tuple[str, float]] = []
    if not census_files(census, args.year):
        started = time.perf_counter()
        generate_census(census, [args.year], scale=1.0, seed=args.seed, workers=args.workers)
        timings.append(("generate census (scale 1)", time.perf_counter() - started))
    started = time.perf_counter()
    tables = read_returns(census_files(census, args.year), year=args.year, workers=args.workers)
    timings.append(("read returns", time.perf_counter() - started))
    started = time.perf_counter()
    frames = {code: build(DATASETS[code], args.year, tables) for code in sorted({c for c, _ in CALIBRATED})}
    timings.append(("build B1, C1, C4, D3, D5", time.perf_counter() - started))

    las = compare_las(frames, args.year)
    summary = las.group_by("measure").agg(
        (pl.col("status") == s).sum().alias(s) for s in ("equal", "differs", "suppressed", "missing")
    )
    england = compare_england(frames, args.year)
    with pl.Config(tbl_rows=100, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(f"Local authorities, {args.year} (pipeline unprotected value vs published):")
        print(summary.sort("measure"))
        bad = las.filter(pl.col("status").is_in(["differs", "missing"]))
        if bad.height:
            print("Mismatches:")
            print(bad)
        print(f"\nEngland, {args.year} (sum of LAs, rounded to the nearest 10, vs published):")
        print(england)
    print()
    for stage, seconds in timings:
        print(f"{stage:<28} {seconds:8.1f} s")
    ok = bad.is_empty() and england["equal"].all()
    print("\ncalibration holds" if ok else "\ncalibration FAILED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--census", type=Path, help="census folder with <year>/<LA>.xml (generated if empty)")
    parser.add_argument("--year", type=int, default=2020)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    if args.census is not None:
        return _check(args.census, args)
    with tempfile.TemporaryDirectory() as tmp:
        return _check(Path(tmp), args)


if __name__ == "__main__":
    sys.exit(main())
