"""Ingest + validation throughput at national scale: children per second, end to end.

    .venv/bin/python benchmarks/bench_validate.py                          # generate a national year first
    .venv/bin/python benchmarks/bench_validate.py --census data/census     # reuse returns <census>/<year>/

Three measurements on the same returns:

1. library: ``read_returns`` (parallel across files) then ``validate`` on the whole year, as the Dagster
   assets run them; the target is >= 15,000 children/s end to end on 2 cores;
2. the ``cin-validate`` console script on the year's folder, in a fresh process, writing its CSV report
   (interpreter start, reading, validation and output included);
3. validation only, per child.

Peak memory is the largest resident set of this process and of any reader worker. Wall times depend on
what else the machine runs, so the CPU seconds used (this process and its reader workers) and the load
average are printed too: children / (CPU seconds / workers) is what the same work gives on idle cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from cin_assets.census.reader import census_files, read_returns
from cin_assets.synth import generate_census
from cin_assets.validation import validate


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def _peak_mib() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, workers


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--census", type=Path, help="folder holding <year>/<LA>.xml (default: generate one)")
    parser.add_argument("--year", type=int, default=2020)
    parser.add_argument("--scale", type=float, default=1.0, help="generator scale when generating")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-cli", action="store_true", help="skip the console-script measurement")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        census = args.census
        if census is None:
            census = Path(tmp) / "census"
            started = time.perf_counter()
            generate_census(census, [args.year], args.scale, args.seed, workers=args.workers)
            print(
                f"generated {args.year} at scale {args.scale:g} in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
        files = census_files(census, args.year)
        if not files:
            print(f"no returns in {census / str(args.year)}", file=sys.stderr)
            return 2
        megabytes = sum(f.stat().st_size for f in files) / 1e6

        load_before = os.getloadavg()[0]
        cpu, started = _cpu_seconds(), time.perf_counter()
        tables = read_returns(files, year=args.year, workers=args.workers)
        read_s, read_cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        cpu, started = _cpu_seconds(), time.perf_counter()
        report = validate(tables, args.year)
        validate_s, validate_cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        load_after = os.getloadavg()[0]
        children = tables["children"].height
        own_mib, worker_mib = _peak_mib()

        cli_s = None
        if not args.skip_cli:
            script = Path(sys.executable).with_name("cin-validate")
            out = Path(tmp) / "report.csv"
            started = time.perf_counter()
            done = subprocess.run(
                [str(script), str(census / str(args.year)), "--year", str(args.year), "--output", str(out),
                 "--workers", str(args.workers)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            cli_s = time.perf_counter() - started
            if done.returncode not in (0, 1):
                print(done.stderr, file=sys.stderr)
                return 2
            cli_rows = pl.read_csv(out, infer_schema=False).height
            if cli_rows != report.height:
                print(f"cin-validate reported {cli_rows} rows, the library {report.height}", file=sys.stderr)
                return 2

    total = read_s + validate_s
    idle = (read_cpu + validate_cpu) / args.workers
    rows = [
        ("year", str(args.year)),
        ("workers", str(args.workers)),
        ("returns", f"{len(files)}"),
        ("XML (MB)", f"{megabytes:,.1f}"),
        ("children", f"{children:,}"),
        ("episodes", f"{tables['episodes'].height:,}"),
        ("report rows (errors / queries)",
         f"{report.height:,} ({report.filter(pl.col('type') == 'error').height:,} / "
         f"{report.filter(pl.col('type') == 'query').height:,})"),
        ("ingest (s)", f"{read_s:.1f}"),
        ("validation (s)", f"{validate_s:.1f}"),
        ("ingest children / s", f"{children / read_s:,.0f}"),
        ("validation children / s", f"{children / validate_s:,.0f}"),
        ("END TO END children / s (library)", f"{children / total:,.0f}"),
        ("CPU seconds (ingest / validation)", f"{read_cpu:.1f} / {validate_cpu:.1f}"),
        ("END TO END children / s on idle cores (library)", f"{children / idle:,.0f}"),
        ("load average (before / after)", f"{load_before:.1f} / {load_after:.1f}"),
        ("cin-validate wall time (s)", "-" if cli_s is None else f"{cli_s:.1f}"),
        ("END TO END children / s (cin-validate)", "-" if cli_s is None else f"{children / cli_s:,.0f}"),
        ("peak RSS MiB (main / largest worker)", f"{own_mib:,.0f} / {worker_mib:,.0f}"),
    ]  # fmt: skip
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
