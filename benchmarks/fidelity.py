"""Fidelity report: a generated census's figures against every real published figure the project ships.

    .venv/bin/python benchmarks/fidelity.py --census /tmp/fidelity/census --years 2019,2020   # `make fidelity`
    .venv/bin/python benchmarks/fidelity.py --scale 1 --years 2020 --out /tmp/fidelity/report

Generates the census if a year's returns are missing (``--scale``, ``--seed``; with the year before, which
the look-back measures read), builds the 28 data sets, compares every real figure in
``data/reference`` (England, regions and LAs; see ``cin_assets.measures.fidelity``) and prints per year:
the summary per data set (figures compared, exact, within 2%, LA median error, worst figure), the 25
worst figures, and, unless ``--no-suppression``, our ``c`` cells against DfE's for every real LA-level
figure under ``--suppression-rule`` (default DfE's), with every differing cell's cause. Full tables go to
``--out`` (``comparison_<year>.csv`` sorted by error, ``summary_<year>.csv``, ``suppression_<year>.csv``,
``suppression_differences_<year>.csv``). At a scale other than 1 the counts cannot match: use scale 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import polars as pl

from cin_assets.census import calendar
from cin_assets.census.reader import census_files, read_returns
from cin_assets.datasets.catalogue import DATASETS
from cin_assets.disclosure import RULES, disclosure_config, protect_year
from cin_assets.measures import build_all
from cin_assets.measures.fidelity import (
    compare,
    our_figures,
    real_figures,
    summary,
    suppression,
    suppression_differences,
)
from cin_assets.synth import generate_census


def _years(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        out.extend(range(int(first), int(last or first) + 1))
    return out


def _report(year: int, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    tables = read_returns(census_files(args.census, year), year=year, workers=args.workers)
    before = census_files(args.census, year - 1)
    previous = read_returns(before, year=year - 1, workers=args.workers) if before else None
    read_s = time.perf_counter() - started
    frames = build_all(DATASETS, year, tables, previous)
    real = real_figures(year, DATASETS)
    comparison = compare(real, our_figures(frames, DATASETS))
    table = summary(comparison)
    pl.Config.set_tbl_rows(200)
    pl.Config.set_tbl_hide_dataframe_shape(True)
    pl.Config.set_tbl_hide_column_data_types(True)
    pl.Config.set_fmt_str_lengths(90)
    pl.Config.set_tbl_width_chars(200)
    done = comparison.filter(pl.col("status") == "compared")
    print(
        f"\n=== {year}: {done.height} real figures compared ({comparison.height - done.height} missing) ==="
    )
    print(table)
    england = done.filter(pl.col("geographic_level") == "National")
    print(
        f"England: {england.height} figures, {int(england['exact'].sum())} exact, "
        f"{int(england['within_2pct'].sum())} within 2%"
    )
    print("\n25 worst England figures:")
    print(england.head(25).select("dataset", "column", "filters", "real", "ours_published", "rel_error"))
    outputs = {"comparison": comparison, "summary": table}
    if args.suppression:
        # only the data sets published that year (an empty frame, e.g. H before 2020, is not protected)
        present = {code: frame for code, frame in frames.items() if frame.height}
        config = disclosure_config(args.suppression_rule)
        protected = protect_year(present, {code: DATASETS[code] for code in present}, config)
        agreement = suppression(real, protected.published)
        outputs["suppression"] = agreement
        cells, agree = (
            int(agreement["cells"].sum()),
            int((agreement["cells"] - agreement["real_only"] - agreement["ours_only"]).sum()),
        )
        print(f"\nSuppression at LA level: {cells} real cells, agreement {100 * agree / max(cells, 1):.1f}%")
        print(agreement.filter((pl.col("real_only") + pl.col("ours_only")) > 0))
        differences = suppression_differences(real, protected.published, protected.report)
        outputs["suppression_differences"] = differences
        print(f"\nWhy they differ ({config.rule} rule), cells per cause:")
        print(differences.group_by("cause", "relation").len().sort("len", descending=True))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, frame in outputs.items():
            frame.write_csv(args.out / f"{name}_{year}.csv")
    print(f"(read {read_s:.0f} s, total {time.perf_counter() - started:.0f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--census", type=Path, default=Path("/tmp/fidelity/census"))
    parser.add_argument("--years", default="2019,2020")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, help="folder for the full comparison tables (CSV)")
    parser.add_argument("--no-suppression", dest="suppression", action="store_false")
    parser.add_argument(
        "--suppression-rule",
        choices=RULES,
        help="secondary-suppression rule (default $CIN_SUPPRESSION, else dfe)",
    )
    args = parser.parse_args()
    years = _years(args.years)
    # the year before each year too: the look-back measures (re-referrals) read it
    wanted = sorted({*years, *(y - 1 for y in years if y - 1 >= calendar.FIRST_YEAR)})
    missing = [y for y in wanted if not census_files(args.census, y)]
    if missing:
        started = time.perf_counter()
        generate_census(args.census, missing, scale=args.scale, seed=args.seed, workers=args.workers)
        print(f"generated {missing} at scale {args.scale} in {time.perf_counter() - started:.0f} s")
    for year in years:
        _report(year, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
