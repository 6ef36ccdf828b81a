"""`make run`: generate the synthetic census if needed, then materialise every asset for every year.

Runs go into the Dagster instance under ``$DAGSTER_HOME`` (SQLite by default), so the UI shows them
afterwards. Each reporting year is one run of the ``reporting_year_job``, two years at a time (each waits
for the previous year's look-back partition); the release-level assets (published files, data guidance,
ZIP) follow in one ``release_job`` run.
"""

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import dagster as dg

from cin_assets.census.reader import census_files
from cin_assets.publish.profile import PROFILES, get_profile


def parse_years(text: str) -> list[int]:
    """``2013-2020`` or ``2019,2020`` or ``2020``."""
    years: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        years.extend(range(int(first), int(last or first) + 1))
    return sorted(set(years))


def ensure_census(root: Path, years: list[int], scale: float, seed: int) -> None:
    """Generate the synthetic census for the years that have no returns yet."""
    missing = [y for y in years if not census_files(root / "census", y)]
    if not missing:
        print(f"census returns found under {root / 'census'} for {years[0]}-{years[-1]}")
        return
    from cin_assets.synth import generate_census

    print(f"generating the synthetic census (scale {scale}, seed {seed}) for {years[0]}-{years[-1]} ...")
    start = time.perf_counter()
    generate_census(root / "census", years=years, scale=scale, seed=seed)
    print(f"  done in {time.perf_counter() - start:.0f} s")


# Progress is printed by this script; Dagster's own console shows warnings and errors only (every event is
# still in the instance, for the UI).
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _lookback_ready(instance: dg.DagsterInstance, year: int, since: float) -> bool:
    """Whether this ``make run`` has materialised the look-back partition that ``year`` reads."""
    from cin_assets.defs.measures import lookback_key

    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            lookback_key("episodes"), asset_partitions=[str(year - 1)], after_timestamp=since
        ),
        limit=1,
    ).records
    return bool(records)


def run_year(
    year: int, wait_for_previous: bool, since: float, previous_done: Mapping[int, bool]
) -> tuple[bool, str, float]:
    """One reporting year's run (in a worker process). A year's look-back measures read the previous
    year's ``lookback_episodes`` partition, so the run starts once this ``make run`` has materialised it
    (or the previous year's run has ended without it)."""
    from cin_assets.definitions import defs

    instance = dg.DagsterInstance.get()
    while (
        wait_for_previous and not previous_done.get(year - 1) and not _lookback_ready(instance, year, since)
    ):
        time.sleep(0.5)
    start = time.perf_counter()
    result = defs.resolve_job_def("reporting_year_job").execute_in_process(
        partition_key=str(year), instance=instance, raise_on_error=False, run_config=QUIET
    )
    return result.success, result.run_id, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", default=os.environ.get("YEARS", "2013-2020"))
    parser.add_argument("--scale", type=float, default=float(os.environ.get("SCALE", "0.1")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SEED", "1")))
    parser.add_argument(
        "--parallel",
        type=int,
        default=int(os.environ.get("CIN_RUN_PARALLEL", "2")),
        help="reporting years materialised at once (default 2: disclosure control is single-threaded)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("CIN_DATA_DIR") or "data"),
        help="the data root (default $CIN_DATA_DIR, else ./data): census/ in, staging/ and published/ out",
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=get_profile().name,
        help="layout of the published files (default $CIN_PROFILE or $PROFILE, else ees)",
    )
    args = parser.parse_args(argv)
    root = args.data_dir.resolve()
    # the code location's resources read the data root from $CIN_DATA_DIR when each run starts (dg.EnvVar),
    # in this process and in the year workers it spawns
    os.environ["CIN_DATA_DIR"] = str(root)
    years = parse_years(args.years)
    ensure_census(root, years, args.scale, args.seed)

    from cin_assets.definitions import defs

    instance = dg.DagsterInstance.get()
    since = time.time()
    failed: list[str] = []
    print(
        f"materialising {len(years)} reporting years ({min(args.parallel, len(years))} at a time): "
        "census -> staging -> validation -> measures -> disclosure control ...",
        flush=True,
    )
    with (
        multiprocessing.Manager() as manager,
        ProcessPoolExecutor(
            max_workers=max(1, args.parallel), mp_context=multiprocessing.get_context("spawn")
        ) as pool,
    ):
        previous_done = manager.dict()
        futures = {
            pool.submit(run_year, year, year - 1 in years, since, previous_done): year for year in years
        }
        for future in as_completed(futures):
            year = futures[future]
            previous_done[year] = True
            ok, run_id, seconds = future.result()
            print(f"  {year}: {'ok' if ok else 'FAILED'} in {seconds:.1f} s (run {run_id[:8]})", flush=True)
            if not ok:
                failed.append(str(year))
    print(f"release ({args.profile} profile): published files, data guidance and ZIP ...", flush=True)
    start = time.perf_counter()
    release = defs.resolve_job_def("release_job").execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={**QUIET, "resources": {"output_profile": {"config": {"name": args.profile}}}},
    )
    print(f"  {'ok' if release.success else 'FAILED'} in {time.perf_counter() - start:.1f} s", flush=True)
    print(f"\npublished files: {root / 'published'}")
    print(f"Dagster instance: {os.environ.get('DAGSTER_HOME')} (make ui, then http://127.0.0.1:3000)")
    if failed or not release.success:
        print(
            f"failed: {', '.join(sorted(failed) + ([] if release.success else ['release']))}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
