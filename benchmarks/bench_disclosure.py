"""Disclosure control of whole release years: suppression, then every check (the audit across all files).

Usage::

    python benchmarks/bench_disclosure.py [--scale 0.05] [--years 2013-2020] [--seed 1]
                                          [--before /tmp/disclosure-main] [--runs 1]
    python benchmarks/bench_disclosure.py --synthetic [--year 2020] [--runs 3]

By default each year is a generated census (``cin-synth`` at ``--scale``, cached under
``benchmarks/cache/scale_<scale>/census``), measured with the real catalogue (the 28 frames cached as
parquet beside it), protected with ``protect_year`` and checked with ``check_year`` (pandera schemas and EES
naming rules per file, then linked cells, additive groups and the LP attack audit over every file of the
year). Per year it prints the audit's flagged cells by class (recovered exactly, proven below the
protection level, inconsistent) and any other failed check, and per file the primary and secondary ``c``
cells; with ``--before DIR`` (a checkout of another revision, e.g. ``git worktree add /tmp/x main``) the
same frames are also suppressed by that revision's code, in a subprocess, for the before/after table.
Times are wall and process-CPU seconds (other work on a shared machine inflates wall time).

``--synthetic`` uses the hand-shaped release of the tests (``cin_assets_tests.disclosure.release``) instead.
Results go to ``benchmarks/results/disclosure.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - cpu, time.perf_counter() - wall


def parse_years(text: str) -> list[int]:
    years: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        years += range(int(low), int(high or low) + 1)
    return sorted(set(years))


def year_frames(root: Path, year: int, scale: float, seed: int) -> dict[str, pl.DataFrame]:
    """The 28 unprotected frames of ``year`` from the cached census (generated, and measured, once)."""
    from cin_assets.census import calendar
    from cin_assets.census.reader import census_files, read_returns
    from cin_assets.datasets.catalogue import DATASETS
    from cin_assets.measures import build_all
    from cin_assets.synth import generate_census

    census, cached = root / "census", root / "frames" / str(year)
    if cached.is_dir():
        return {p.stem: pl.read_parquet(p) for p in sorted(cached.glob("*.parquet"))}
    wanted = [y for y in (year - 1, year) if y in calendar.REPORTING_YEARS and not census_files(census, y)]
    if wanted:
        print(f"generating the {', '.join(map(str, wanted))} census at scale {scale}", flush=True)
        generate_census(census, years=wanted, scale=scale, seed=seed)
    tables = read_returns(census_files(census, year), year=year)
    before = census_files(census, year - 1)
    previous = read_returns(before, year=year - 1) if before else None
    frames = {c: f for c, f in build_all(DATASETS, year, tables, previous).items() if f.height}
    cached.mkdir(parents=True, exist_ok=True)
    for code, frame in frames.items():
        frame.write_parquet(cached / f"{code}.parquet")
    return frames


def suppress_only(frames_dir: Path) -> dict[str, Any]:
    """Suppress the cached frames with whatever ``cin_assets`` is first on the path (``--before``)."""
    from cin_assets.disclosure import protect_year, suppression_summary

    try:
        from cin_assets.datasets.catalogue import DATASETS
    except ImportError:  # a checkout from before the descriptions moved to their own package
        from cin_assets.publish.catalogue import DATASETS  # type: ignore[no-redef]

    frames = {p.stem: pl.read_parquet(p) for p in sorted(frames_dir.glob("*.parquet"))}
    protected, cpu, wall = timed(lambda: protect_year(frames, DATASETS))
    summary = suppression_summary(protected, DATASETS)
    return {"protect_wall": wall, "protect_cpu": cpu, "per_file": summary.to_dicts()}


def before_run(code: Path, frames_dir: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--suppress-only", str(frames_dir)],
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"the --before suppression failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def flagged(outcomes: list[Any]) -> dict[str, int]:
    """Audit failures by class (distinct cells), plus any other failed check by name."""
    audit = next(o for o in outcomes if o.name == "lp_audit")
    out = {"exact": 0, "proven_small": 0, "inconsistent": 0, "other": 0}
    rules = {
        "exact_disclosure": "exact",
        "protection_level": "proven_small",
        "lp_inconsistent": "inconsistent",
    }
    if audit.failures.height:
        counts = audit.failures.group_by("rule").agg(pl.len()).iter_rows()
        for rule, n in counts:
            out[rules.get(rule, "other")] += n
    out["failed_checks"] = sum(not o.passed for o in outcomes if o.name != "lp_audit")
    return out


def run_year(args: argparse.Namespace, year: int) -> dict[str, Any]:
    from cin_assets.datasets.catalogue import DATASETS
    from cin_assets.disclosure import DisclosureConfig, check_year, protect_year, suppression_summary

    root = args.cache / f"scale_{args.scale}"
    frames = year_frames(root, year, args.scale, args.seed)
    runs = []
    for _ in range(args.runs):
        protected, p_cpu, p_wall = timed(lambda: protect_year(frames, DATASETS))
        outcomes, c_cpu, c_wall = timed(lambda p=protected: check_year(p.published, DATASETS))
        runs.append((p_wall, p_cpu, c_wall, c_cpu, outcomes))
    p_wall, p_cpu, c_wall, c_cpu = (statistics.median(r[i] for r in runs) for i in range(4))
    outcomes = runs[-1][4]
    audit = next(o for o in outcomes if o.name == "lp_audit")
    after = suppression_summary(protected, DATASETS).select("dataset", "primary", "secondary")
    result: dict[str, Any] = {
        "year": year,
        "flagged": flagged(outcomes),
        "failed": sorted({o.name for o in outcomes if not o.passed}),
        "protect_wall": p_wall,
        "protect_cpu": p_cpu,
        "check_wall": c_wall,
        "check_cpu": c_cpu,
        "audit_seconds": audit.metadata["seconds"],
        "per_file": after.to_dicts(),
    }
    if args.before:
        before = before_run(args.before, root / "frames" / str(year))
        result["before"] = before
        table = (
            pl.DataFrame(before["per_file"])
            .select("dataset", pl.col("primary").alias("primary_before"), pl.col("secondary").alias("before"))
            .join(after.rename({"secondary": "after"}), on="dataset", how="full", coalesce=True)
            .sort("dataset")
        )
    else:
        table = after.rename({"secondary": "after"})
    f = result["flagged"]
    print(
        f"{year}: flagged exact {f['exact']}, proven <{DisclosureConfig().protection} {f['proven_small']}, "
        f"inconsistent {f['inconsistent']}, other {f['other']}; failed checks {result['failed'] or 'none'}; "
        f"protect {p_wall:.2f}s wall ({p_cpu:.2f}s cpu) + check_year {c_wall:.2f}s ({c_cpu:.2f}s cpu; "
        f"LP audit {audit.metadata['seconds']:.2f}s)"
        + (f"; before: protect {result['before']['protect_wall']:.2f}s wall" if args.before else ""),
        flush=True,
    )
    with pl.Config(tbl_rows=40, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        failed = [o.failures for o in outcomes if not o.passed]
        if failed:  # published cells and the attacker's interval only, never a true value
            print(pl.concat(failed, how="diagonal_relaxed").head(20), flush=True)
        print(table.with_columns(pl.lit(year).alias("year")) if args.verbose else _totals(table), flush=True)
    return result


def _totals(table: pl.DataFrame) -> str:
    sums = table.select(pl.exclude("dataset").sum()).row(0, named=True)
    return "  totals: " + ", ".join(f"{k} {v}" for k, v in sums.items())


def synthetic(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))  # the synthetic release lives with the tests
    from cin_assets.disclosure import check_year, protect_year, suppression_summary
    from cin_assets_tests.disclosure import release

    datasets = release.descriptions()
    frames = release.frames(datasets, year=args.year, seed=args.seed)
    for run in range(args.runs):
        protected, p_cpu, p_wall = timed(lambda: protect_year(frames, datasets))
        outcomes, c_cpu, c_wall = timed(lambda p=protected: check_year(p.published, datasets))
        print(
            f"run {run + 1}: protect {p_wall:.2f}s wall ({p_cpu:.2f}s cpu), check_year {c_wall:.2f}s wall "
            f"({c_cpu:.2f}s cpu), flagged {flagged(outcomes)}"
        )
    with pl.Config(tbl_rows=40, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(suppression_summary(protected, datasets))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--years", type=parse_years, default=parse_years("2013-2020"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--before", type=Path, help="checkout whose suppressor gives the 'before' counts")
    parser.add_argument("--cache", type=Path, default=HERE / "cache")
    parser.add_argument("--verbose", action="store_true", help="print every file's counts, not only totals")
    parser.add_argument("--synthetic", action="store_true", help="the tests' hand-shaped release instead")
    parser.add_argument("--year", type=int, default=2020, help="with --synthetic")
    parser.add_argument("--suppress-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.suppress_only:
        print(json.dumps(suppress_only(args.suppress_only)))
        return
    if args.synthetic:
        synthetic(args)
        return
    results = [run_year(args, year) for year in args.years]
    out = HERE / "results" / f"disclosure_scale_{args.scale}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"scale": args.scale, "seed": args.seed, "years": results}, indent=2))
    print(f"results: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
