"""Generate a synthetic CIN census: one XML return per LA per reporting year, calibrated to published figures.

Each LA is independent: its history is simulated from its own random stream (derived from the seed and the
LA code with NumPy's SeedSequence) over every year it exists, whatever years are asked for, so the same
seed gives byte-identical files whatever the year range, LA selection or number of worker processes.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import polars as pl

from cin_assets import reference
from cin_assets.census import calendar, exceptions
from cin_assets.synth import attributes, calibration, plans, render, successors
from cin_assets.synth.simulate import History, LaSimulation, day


@dataclass(frozen=True)
class ReturnStats:
    """What was written for one LA and year (counts only: no child data)."""

    year: int
    la_code: str
    path: Path
    children: int
    episodes: int
    bytes: int


@dataclass(frozen=True)
class LaResult:
    la_code: str
    returns: list[ReturnStats]
    shortfalls: dict[str, int] = field(default_factory=dict)


def _stamp(rng: np.random.Generator, year: int) -> str:
    """A plausible submission time: May to mid-July after the year end, in office hours."""
    when = dt.datetime(year, 5, 1, 8) + dt.timedelta(
        days=int(rng.integers(0, 75)), seconds=int(rng.integers(0, 9 * 3600))
    )
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def _history(la_code: str, targets: pl.DataFrame, seed: int, ref: Path | None
             ) -> tuple[History, attributes.Attributes, list[int]]:  # fmt: skip
    """One LA's simulated history and attributes, from its own random streams, and the years it exists in."""
    year_plans = plans.year_plans(la_code, targets, ref)
    root = np.random.SeedSequence([seed, int(la_code)])
    sim_seq, attr_seq, fix_seq = root.spawn(3)
    history = LaSimulation(year_plans, plans.params(ref), np.random.default_rng(sim_seq)).run()
    own_years = plans.la_years(la_code, ref)
    la_rows = targets.filter(targets["la_code"] == la_code)
    horizon = day(dt.date(max(own_years), 3, 31))
    rows = {r["year"]: r for r in la_rows.iter_rows(named=True)}
    attrs = attributes.assign(
        history,
        la_code,
        np.random.default_rng(attr_seq),
        dict(zip(la_rows["year"].to_list(), la_rows["cpp_subsequent"].to_list(), strict=True)),
        horizon,
        ref,
        {y: attributes.Characteristics.of(rows[min(y, max(rows))]) for y in own_years},
    )
    attributes.fix_return_queries(history, attrs, own_years, np.random.default_rng(fix_seq))
    return history, attrs, own_years


def _link_predecessors(la_code: str, history: History, attrs: attributes.Attributes, first: int,
                       targets: pl.DataFrame, seed: int, ref: Path | None) -> None:  # fmt: skip
    """A successor that carried its predecessor's cases (``la_successors.csv``: any but ``not_available``):
    its children returning from the predecessor's last year take that return's child IDs
    (:mod:`cin_assets.synth.successors`)."""
    links = reference.successors(first, ref).filter(pl.col("first_year_lookback") != exceptions.NOT_AVAILABLE)
    for predecessor in links.filter(pl.col("la_code") == la_code)["predecessor_la_code"].to_list():
        heirs = sorted(links.filter(pl.col("predecessor_la_code") == predecessor)["la_code"].to_list())
        referrals = targets.filter(pl.col("year") == first)
        weights = [float(referrals.filter(pl.col("la_code") == h)["Referrals"].item()) for h in heirs]
        before, before_attrs, _ = _history(predecessor, targets, seed, ref)
        every, ids, latest = successors.candidates(before, before_attrs, first - 1)
        mine = successors.share(ids, heirs.index(la_code), weights, seed, predecessor, first)
        rng = np.random.default_rng(np.random.SeedSequence([seed, int(la_code), int(predecessor)]))
        successors.link(history, attrs, first, every, ids[mine], latest[mine], rng)


def generate_la(la_code: str, years: Iterable[int], out: Path, scale: float, seed: int,
                ref: Path | None = None) -> LaResult:  # fmt: skip
    """Simulate one LA and write its returns for ``years`` (those it exists in) to ``out/<year>/<la>.xml``."""
    targets = calibration.scaled_targets(scale, ref)
    history, attrs, own_years = _history(la_code, targets, seed, ref)
    _link_predecessors(la_code, history, attrs, min(own_years), targets, seed, ref)
    written = []
    for year in sorted(set(years) & set(own_years) - omitted_years(la_code, ref)):
        rows = render.cut(history, year)
        children = len(history.children_of(rows["episodes"]))
        if not children:  # the census has no empty returns: a generator bug, never a file
            raise RuntimeError(f"LA {la_code} {year}: the simulation left no child to return")
        rng = np.random.default_rng(np.random.SeedSequence([seed, int(la_code), year]))
        rates = calibration.la_factor_rates(la_code, year, ref)
        base = calibration.la_factor_base(la_code, year, scale, ref)
        text = render.render(history, attrs, la_code, year, rates, rng, _stamp(rng, year), base)
        path = out / str(year) / f"{la_code}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("ascii")
        path.write_bytes(data)
        written.append(ReturnStats(year, la_code, path, children, len(rows["episodes"]), len(data)))
    return LaResult(la_code, written, history.shortfalls)


def omitted_years(la_code: str, ref: Path | None = None) -> set[int]:
    """Years the LA made no usable return in reality (Hackney 2021-2022, Hampshire 2024): the synthetic
    census has none either (the LA's history still runs through them), and declares them as DfE did."""
    dfe = reference.dfe_exceptions(ref)
    return set(dfe.filter(pl.col("la_code") == la_code)["reporting_year"].to_list())


def declare_exceptions(
    data_root: str | os.PathLike[str], years: Iterable[int], ref: Path | None = None
) -> Path:
    """Add DfE's declared exceptions for ``years`` to ``<data_root>/exceptions.csv`` (the file the return
    inventory reads), keeping every declaration already there; returns the file's path."""
    path = Path(data_root) / exceptions.FILE_NAME
    existing = exceptions.read_file(path).select("reporting_year", "la_code", "action", "note")
    dfe = reference.dfe_exceptions(ref).filter(pl.col("reporting_year").is_in(list(years)))
    new = dfe.join(existing, on=["reporting_year", "la_code"], how="anti")
    if not new.is_empty() or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pl.concat([existing, new]).sort("reporting_year", "la_code").write_csv(path)
    return path


def _job(args: tuple) -> LaResult:
    return generate_la(*args)


@contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Worker processes inherit POLARS_MAX_THREADS=1 so N workers use N cores, not N x cores."""
    old = os.environ.get("POLARS_MAX_THREADS")
    os.environ["POLARS_MAX_THREADS"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("POLARS_MAX_THREADS", None)
        else:
            os.environ["POLARS_MAX_THREADS"] = old


def generate_census(out: str | os.PathLike[str], years: Iterable[int], scale: float = 1.0, seed: int = 1,
                    las: Iterable[str] | None = None, workers: int | None = None,
                    progress: Callable[[LaResult], None] | None = None,
                    ref: Path | None = None) -> list[LaResult]:  # fmt: skip
    """Write ``out/<year>/<LA>.xml`` for every LA valid in each of ``years`` (or only ``las``).

    ``workers``: processes (default: CPU count; 1 = in this process). Returns one LaResult per LA, in LA
    code order, and calls ``progress`` as each LA finishes.
    """
    years = sorted(set(years))
    bad = [y for y in years if y not in calendar.REPORTING_YEARS]
    if bad:
        raise ValueError(f"years {bad} are outside {calendar.FIRST_YEAR}-{calendar.LAST_YEAR}")
    valid = sorted({la for y in years for la in calibration.la_codes(y, ref)})
    wanted = valid if las is None else sorted(set(las))
    unknown = sorted(set(wanted) - set(valid))
    if unknown:
        raise ValueError(f"LA codes {unknown} made no return in {years[0]}-{years[-1]}")
    out = Path(out)
    targets = calibration.scaled_targets(scale, ref)
    size = dict(targets.group_by("la_code").agg(pl.col("Referrals").sum()).iter_rows())
    jobs = [(la, years, out, scale, seed, ref) for la in sorted(wanted, key=lambda la: -size[la])]
    workers = workers or os.cpu_count() or 1
    results: dict[str, LaResult] = {}
    if workers == 1 or len(jobs) == 1:
        for job in jobs:
            results[job[0]] = r = _job(job)
            if progress:
                progress(r)
    else:
        with (
            _single_threaded_children(),
            ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool,
        ):
            for r in pool.map(_job, jobs):
                results[r.la_code] = r
                if progress:
                    progress(r)
    return [results[la] for la in sorted(results)]
