"""The whole pipeline for one reporting year, stage by stage, at several scales (issue 7's benchmark).

Usage: ``python benchmarks/bench_pipeline.py [--scale 0.1 --scale 0.3 --scale 1.0] [--runs 3] [--year 2020]``

For each scale it generates (or reuses, under ``benchmarks/cache/``) a synthetic census of the year and the
year before (the look-back measures read it), then times, ``--runs`` times, each stage on the year:

- ``lxml baseline``: a bare ``lxml.etree.iterparse`` loop that only counts elements over the same files,
  with the same process pool as the ingest (the practical limit for parsing XML in Python);
- ``ingest``: XML to the typed child-level tables (``cin_assets.census.reader.read_returns``);
- ``validation``: every DfE rule (``cin_assets.validation.validate``);
- ``measures``: the 28 data sets' unprotected frames (``cin_assets.measures.build``);
- ``disclosure``: suppression and rounding (``protect_year``), then ``audit``: pandera schemas, cross-file
  checks and the linear-programming attack (``check_year``);
- ``publish``: EES data and metadata files, data guidance and the all-data ZIP, written to a temp folder;
- ``dagster graph``: the same year through the Dagster asset graph as ``make run`` materialises it
  (``reporting_year_job`` in process, SQLite instance, parquet IO manager): census to protected files with
  every asset check, so the stages above plus Dagster's own cost (events, parquet hand-offs between steps).

It prints, per scale, a table of medians (stage, children, MB of XML, wall seconds, peak RSS of the process
and its workers, children per second), the lxml ratio, and microseconds per child for the linearity check;
results also go to ``benchmarks/results/pipeline_<scale>.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import polars as pl
import psutil
from lxml import etree

from cin_assets.census.reader import census_files, read_returns
from cin_assets.datasets.catalogue import DATASETS
from cin_assets.disclosure import DisclosureConfig, check_year, protect_year
from cin_assets.measures import build_all
from cin_assets.publish import bundle, ees, guidance, release_store
from cin_assets.synth import generate_census
from cin_assets.validation import validate

HERE = Path(__file__).resolve().parent


class PeakRss:
    """Samples the resident memory of this process plus its children (the worker pool) every 20 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = me.memory_info().rss
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(fn: Callable[[], object]) -> tuple[object, float, int]:
    with PeakRss() as rss:
        start = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - start
    return value, seconds, rss.peak


def _count_elements(path: str) -> int:
    n = 0
    for _event, elem in etree.iterparse(path, events=("end",)):
        n += 1
        elem.clear()
    return n


def lxml_baseline(files: list[Path], workers: int) -> int:
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        return sum(pool.map(_count_elements, [str(f) for f in files], chunksize=1))


# Runs in a fresh interpreter rooted at the benchmark's data folder; prints "<year> <ok> <seconds>" per run.
_GRAPH_RUN = """
import sys, time
import dagster as dg
from cin_assets.definitions import defs
from cin_assets.run import QUIET
job = defs.resolve_job_def("reporting_year_job")
instance = dg.DagsterInstance.get()
for year in sys.argv[1:]:
    start = time.perf_counter()
    result = job.execute_in_process(partition_key=year, instance=instance, raise_on_error=False, run_config=QUIET)
    print(year, result.success, time.perf_counter() - start, flush=True)
"""


def dagster_graph(root: Path, *years: int) -> float:
    """Materialise ``years`` through the asset graph in a subprocess; the seconds of the last one."""
    root = root.resolve()
    home = root / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(HERE.parent / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "CIN_DATA_DIR": str(root), "DAGSTER_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", _GRAPH_RUN, *map(str, years)], env=env, capture_output=True, text=True
    )
    lines = [line.split() for line in done.stdout.splitlines()]
    if done.returncode or not lines or lines[-1][1] != "True":
        raise RuntimeError(f"the graph run of {years} failed:\n{done.stderr[-4000:]}")
    seconds = lines[-1][2]
    return float(seconds)


def ensure_census(root: Path, year: int, scale: float, seed: int) -> float | None:
    """Generate the census for ``year - 1`` and ``year`` unless cached; returns the seconds it took."""
    if census_files(root, year) and census_files(root, year - 1):
        return None
    start = time.perf_counter()
    generate_census(root, years=[year - 1, year], scale=scale, seed=seed)
    return time.perf_counter() - start


def publish(published: dict[str, pl.DataFrame], year: int, out: Path) -> None:
    """The release as the pipeline writes it: every file staged, checked against its manifest, switched to."""
    frames = {code: ees.release_frame(DATASETS[code], {year: frame}) for code, frame in published.items()}
    data_files: dict[str, bytes] = {}
    for code, frame in frames.items():
        data_files |= ees.data_set_files(DATASETS[code], frame)
    rows = {code: frame.height for code, frame in frames.items()}
    text = guidance.data_guidance(DATASETS, DisclosureConfig(), rows).encode()
    archive = bundle.zip_bytes(bundle.release_members(data_files, text, "data_guidance.md"))
    files = {**data_files, "data_guidance.md": text, "all_data.zip": archive}
    shutil.rmtree(out / "releases", ignore_errors=True)  # each repeat writes a new release
    (out / "published").unlink(missing_ok=True)
    release_store.publish(out / "published", out / "releases", files)


def run_once(census: Path, year: int, workers: int, previous: dict) -> dict[str, tuple[float, int]]:
    files = census_files(census, year)
    out: dict[str, tuple[float, int]] = {}
    out["lxml baseline"] = timed(lambda: lxml_baseline(files, workers))[1:]
    tables, *out["ingest"] = timed(lambda: read_returns(files, year=year, workers=workers))
    _, *out["validation"] = timed(lambda: validate(tables, year))
    frames, *out["measures"] = timed(lambda: build_all(DATASETS, year, tables, previous))
    protected, *out["disclosure"] = timed(lambda: protect_year(frames, DATASETS))
    _, *out["audit"] = timed(lambda: check_year(protected.published, DATASETS))
    with tempfile.TemporaryDirectory() as tmp:
        _, *out["publish"] = timed(lambda: publish(protected.published, year, Path(tmp)))
    graph_seconds, _, graph_peak = timed(lambda: dagster_graph(census.parent, year))
    out["dagster graph"] = (graph_seconds, graph_peak)
    out["children"] = (float(tables["children"].height), 0)
    return {k: tuple(v) for k, v in out.items()}


def report(scale: float, runs: list[dict], megabytes: float, generation: float | None) -> dict:
    children = int(runs[0]["children"][0])
    stages = [k for k in runs[0] if k != "children"]
    rows = []
    for stage in stages:
        seconds = statistics.median(r[stage][0] for r in runs)
        peak = max(r[stage][1] for r in runs)
        rows.append(
            {
                "stage": stage,
                "children": children,
                "MB": round(megabytes, 1),
                "seconds": round(seconds, 2),
                "peak_rss_MB": round(peak / 1e6),
                "children_per_s": round(children / seconds) if seconds else None,
                "us_per_child": round(seconds / children * 1e6, 1),
            }
        )
    total = sum(r["seconds"] for r in rows if r["stage"] not in ("lxml baseline", "dagster graph"))
    baseline = next(r["seconds"] for r in rows if r["stage"] == "lxml baseline")
    ingest = next(r["seconds"] for r in rows if r["stage"] == "ingest")
    print(f"\nscale {scale}: {children:,} children, {megabytes:,.0f} MB of XML, median of {len(runs)} runs")
    if generation is not None:
        print(f"generating the census (2 years): {generation:.1f} s (once, not a median)")
    header = f"{'stage':<14}{'children':>10}{'MB':>9}{'wall s':>9}{'peak RSS MB':>13}{'children/s':>12}{'us/child':>10}"
    print(header)
    for r in rows:
        print(
            f"{r['stage']:<14}{r['children']:>10,}{r['MB']:>9}{r['seconds']:>9}{r['peak_rss_MB']:>13,}"
            f"{r['children_per_s'] or 0:>12,}{r['us_per_child']:>10}"
        )
    print(
        f"{'total':<14}{children:>10,}{megabytes:>9.0f}{total:>9.2f}   (ingest to publish, without Dagster)"
    )
    print(f"ingest throughput / lxml baseline = {baseline / ingest:.2f}")
    return {"scale": scale, "stages": rows, "total_seconds": round(total, 2), "lxml_ratio": baseline / ingest}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, action="append")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--year", type=int, default=2020)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--cache", type=Path, default=HERE / "cache")
    args = parser.parse_args()
    results = []
    for scale in args.scale or [0.1, 0.3, 1.0]:
        census = args.cache / f"scale_{scale}" / "census"
        generation = ensure_census(census, args.year, scale, args.seed)
        megabytes = sum(f.stat().st_size for f in census_files(census, args.year)) / 1e6
        previous = read_returns(census_files(census, args.year - 1), year=args.year - 1, workers=args.workers)
        runs = [run_once(census, args.year, args.workers, previous) for _ in range(args.runs)]
        del previous
        result = report(scale, runs, megabytes, generation)
        results.append(result)
        out = HERE / "results" / f"pipeline_{scale}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
    if len(results) > 1:
        print("\nlinearity: microseconds per child, whole pipeline")
        for r in results:
            children = r["stages"][0]["children"]
            print(f"  scale {r['scale']}: {r['total_seconds'] / children * 1e6:.1f} us/child")


if __name__ == "__main__":
    main()
