"""The reference files the project ships (``data/reference/``, see its README for sources).

They ship inside the package as ``cin_assets/reference_data`` (a symlink to ``data/reference`` in the
source tree, a real folder in the wheel), so an installed ``cin_assets`` finds them wherever it runs. A data
root may hold its own ``reference/`` copy, which then takes precedence.

Plain functions returning polars frames; callers pass the reference folder (``ref``) to use a data root's
copy; without one they read the shipped copy. Nothing here reads the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import polars as pl

from cin_assets.census.geography import LOCAL, LONDON_CODE, REGIONAL, in_london_sub_region
from cin_assets.census.lookback import FIRST_YEAR_LOOKBACKS

SHIPPED_REFERENCE = Path(__file__).resolve().parent / "reference_data"


def reference_dir(root: Path | None = None) -> Path:
    """``<root>/reference`` when the data root holds a copy, otherwise the copy shipped in the package."""
    if root is not None and (root / "reference" / "la_codes_by_year.csv").exists():
        return root / "reference"
    return SHIPPED_REFERENCE


def _csv(path: Path) -> pl.DataFrame:
    """A reference CSV, re-read when the file changes: a team edits e.g. ``dfe_exceptions.csv`` while the
    Dagster code server keeps running, and the next run must see the declared decision."""
    stat = path.stat()
    return _read_csv(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _read_csv(path: Path, mtime_ns: int, size: int) -> pl.DataFrame:  # mtime_ns, size: the cache key
    return pl.read_csv(path, infer_schema=False)


def local_authorities(year: int, ref: Path | None = None) -> pl.DataFrame:
    """LAs that made a return in reporting ``year``, in DfE code order.

    Columns: old_la_code (3-digit DfE code), new_la_code (GSS), la_name, region_code (as EES publishes it:
    the Inner/Outer London code E13000001/2 for London boroughs), region_name, ons_region_code (always
    the E12 region) and ons_region_name.
    """
    las = _csv(reference_dir() / "la_codes_by_year.csv" if ref is None else ref / "la_codes_by_year.csv")
    out = las.filter(pl.col("time_period") == str(year)).drop("time_period")
    if out.is_empty():
        raise ValueError(f"no local authorities known for reporting year {year}")
    regions = regions_table(ref)
    london = in_london_sub_region(pl.col("region_code"))
    return out.with_columns(
        ons_region_code=pl.when(london).then(pl.lit(LONDON_CODE)).otherwise(pl.col("region_code")),
    ).join(
        regions.select(
            pl.col("region_code").alias("ons_region_code"), pl.col("region_name").alias("ons_region_name")
        ),
        on="ons_region_code",
        how="left",
    )


def regions_table(ref: Path | None = None) -> pl.DataFrame:
    """The 9 English regions and Inner/Outer London, in EES order: region_code, region_name."""
    geos = _csv((ref or reference_dir()) / "geographies.csv")
    return geos.filter(pl.col("geographic_level") == REGIONAL).select("region_code", "region_name")


def populations(year: int, ref: Path | None = None) -> pl.DataFrame:
    """ONS 0-17 population used for rates in reporting ``year`` (mid-year ``year - 1``).

    Columns: geographic_level, region_code, old_la_code, new_la_code, population_0_17 (Int64).
    2013-2020: the original vintage those releases used (back-solved from their rates); 2021 onward: the
    rebased vintage DfE shipped with its 2025 release, which reproduces every published LAIT rate for
    2021-2025. Empty for a year no population is published for yet (its rates are then not available).
    See the reference README.
    """
    root = ref or reference_dir()
    pop = _csv(root / "population_0_17_original_vintage.csv").filter(pl.col("time_period") == str(year))
    if pop.is_empty():
        pop = _csv(root / "population_0_17_revised_vintage.csv").filter(pl.col("time_period") == str(year))
    return pop.select(
        "geographic_level",
        "region_code",
        "old_la_code",
        "new_la_code",
        pl.col("population_0_17").cast(pl.Int64),
    )


def published_indicators(ref: Path | None = None) -> pl.DataFrame:
    """Real published B1/C1/C4/D3/D5 values (2013-2025), long format, values as published strings."""
    return _csv((ref or reference_dir()) / "published_la_indicators.csv")


def published_la_value(indicator: str, year: int, ref: Path | None = None) -> pl.DataFrame:
    """One published indicator at LA level for one year: old_la_code, value (Int64; null if suppressed)."""
    df = published_indicators(ref)
    return df.filter(
        (pl.col("indicator") == indicator)
        & (pl.col("time_period") == str(year))
        & (pl.col("geographic_level") == LOCAL)
    ).select("old_la_code", pl.col("value").cast(pl.Int64, strict=False))


def dfe_exceptions(ref: Path | None = None) -> pl.DataFrame:
    """LA-years for which DfE published no figures and handled the totals by a declared exception (Hackney
    2021-2022, Hampshire 2024): reporting_year (Int32), la_code, action, note. The synthetic census makes no
    return for them and declares them as DfE did (see ``cin_assets.synth.generate``)."""
    return _csv((ref or reference_dir()) / "dfe_exceptions.csv").select(
        pl.col("reporting_year").cast(pl.Int32), "la_code", "action", "note"
    )


def successors(year: int, ref: Path | None = None) -> pl.DataFrame:
    """The LAs of reporting ``year`` created from earlier ones, one row per predecessor: la_code,
    predecessor_la_code, first_year_lookback (how DfE counted the successor's first-year re-referrals, one
    of :data:`cin_assets.census.lookback.FIRST_YEAR_LOOKBACKS`; ``la_successors.csv``, see the reference
    README)."""
    path = (ref or reference_dir()) / "la_successors.csv"
    rows = _csv(path).filter(pl.col("reporting_year") == str(year))
    wrong = rows.filter(~pl.col("first_year_lookback").is_in(FIRST_YEAR_LOOKBACKS))
    if wrong.height:
        raise ValueError(
            f"{path}: first_year_lookback {wrong['first_year_lookback'].to_list()} of LA "
            f"{wrong['la_code'].to_list()} ({year}): expected one of {', '.join(FIRST_YEAR_LOOKBACKS)}"
        )
    return rows.select("la_code", "predecessor_la_code", "first_year_lookback")


def published_values(indicator: str, year: int, level: str, ref: Path | None) -> pl.DataFrame:
    """Published values of ``indicator`` in ``year`` at ``level`` (``old_la_code`` empty above LAs)."""
    return (
        published_indicators(ref)
        .filter(
            (pl.col("indicator") == indicator)
            & (pl.col("time_period") == str(year))
            & (pl.col("geographic_level") == level)
        )
        .select(pl.col("old_la_code").fill_null(""), pl.col("value").alias("published"))
    )


def carried_values(column: str, year: int, ref: Path | None = None) -> dict[str, int]:
    """{LA code: value} that DfE's totals of ``year`` hold for the LAs it carried forward (Hackney 2021-2022,
    Hampshire 2024): each one's published value of its latest earlier year without an exception."""
    declared = dfe_exceptions(ref)
    out = {}
    for la in declared.filter((pl.col("reporting_year") == year) & (pl.col("action") == "carry_forward"))[
        "la_code"
    ]:
        years = set(declared.filter(pl.col("la_code") == la)["reporting_year"].to_list())
        source = max(y for y in range(2013, year) if y not in years)
        value = published_values(column, source, LOCAL, ref).filter(pl.col("old_la_code") == la)
        out[la] = int(value["published"].item())
    return out
