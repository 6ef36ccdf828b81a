"""Rebuild data/reference/ from the team's shared reference folder (run by hand, never at run time).

Usage: python tools/refresh_reference.py ../shared/reference

It keeps only the columns the project uses, so the shipped files stay small; data/reference/README.md
names every source. Reporting years 2013-2020 come from the folder itself, 2021 onward from its
``later_years/`` subfolder (same columns and conventions); adding a year there and rerunning this is all the
reference side of a new year needs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

GEO = ["geographic_level", "region_code", "old_la_code", "new_la_code"]
KEEP_LONG = ["source_id", "indicator", "time_period", *GEO, "value"]
LATER = "later_years"


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def main(shared: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    geos = _read(shared / "geographies.csv")

    # LAs valid in each reporting year, with the GSS code the published files give them that year
    # (Gateshead, Northumberland and Buckinghamshire changed GSS code; Dorset, Poole and Bournemouth
    # became Dorset and BCP in 2020). 2021 onward: the later-years LA list (Northamptonshire split from
    # 2022; Cumberland, Westmorland and Furness and the new North Yorkshire and Somerset codes from 2024;
    # 2026 repeats 2025).
    indicators = _read(shared / "cin_la_indicators.csv")
    names = (
        geos.filter(pl.col("geographic_level") == "Local authority")
        .unique(["old_la_code"], keep="first", maintain_order=True)
        .select("old_la_code", "la_name", "region_code", "region_name")
    )
    las = (
        indicators.filter(
            (pl.col("indicator") == "At31_episodes") & (pl.col("geographic_level") == "Local authority")
        )
        .select("time_period", "old_la_code", "new_la_code")
        .join(names, on="old_la_code", how="left")
    )
    later_las = _read(shared / LATER / "la_codes_by_year_2021_2026.csv").select(
        pl.col("reporting_year").alias("time_period"), *las.columns[1:]
    )
    pl.concat([las, later_las]).sort("time_period", "old_la_code").write_csv(out / "la_codes_by_year.csv")
    # names of LAs first seen after 2020 (new LAs and new GSS codes), appended to the geographies
    known = geos.filter(pl.col("geographic_level") == "Local authority").select("old_la_code", "new_la_code")
    new_geos = (
        later_las.unique(["old_la_code", "new_la_code"], keep="first", maintain_order=True)
        .join(known, on=["old_la_code", "new_la_code"], how="anti")
        .select(pl.lit("Local authority").alias("geographic_level"), *geos.columns[1:])
    )
    pl.concat([geos, new_geos]).write_csv(out / "geographies.csv")

    later = shared / LATER
    indicators = pl.concat([indicators, _read(later / "cin_la_indicators_2021_2025.csv")])
    indicators.filter(~pl.col("indicator").str.ends_with("_revpop")).select(KEEP_LONG).write_csv(
        out / "published_la_indicators.csv"
    )
    pl.concat(
        [_read(shared / "cin_assessment_factors.csv"), _read(later / "cin_assessment_factors_2021_2025.csv")]
    ).select(KEEP_LONG).write_csv(out / "published_assessment_factors.csv")
    pl.concat(
        [
            _read(shared / "lait_cin_indicators.csv").select(KEEP_LONG),
            _read(later / "lait_cin_indicators_2021_2025.csv").select(KEEP_LONG),
        ]
    ).write_csv(out / "lait_indicators.csv")
    _read(shared / "cpp_ending_derived.csv").select(
        "time_period", *GEO, "cpp_end_derived", "cpp_end_low", "cpp_end_high"
    ).write_csv(out / "cpp_ending_derived.csv")
    _read(shared / "population_0_17_implied_original_vintage.csv").select(
        pl.col("reporting_year").alias("time_period"),
        "denominator_mid_year",
        *GEO,
        pl.col("implied_pop_0_17_mid").cast(pl.Float64).round(0).cast(pl.Int64).alias("population_0_17"),
        pl.col("implied_pop_low").alias("population_low"),
        pl.col("implied_pop_high").alias("population_high"),
    ).write_csv(out / "population_0_17_original_vintage.csv")
    # the revised (Census-2021-rebased) vintage DfE shipped with its 2025 release: mid-2012 to mid-2024,
    # i.e. reporting years 2013-2025 (the mid-2020 rows of both files are identical)
    revised = ["mid_year", pl.col("used_for_reporting_year").alias("time_period"), *GEO, "population_0_17"]
    pl.concat(
        [
            _read(shared / "population_0_17_by_la.csv").select(revised),
            _read(later / "population_0_17_2021_2025.csv").select(revised),
        ]
    ).unique(maintain_order=True).write_csv(out / "population_0_17_revised_vintage.csv")
    sources = _read(shared / "sources.csv")
    later_sources = _read(later / "sources.csv").join(sources.select("source_id"), on="source_id", how="anti")
    # the project's own rows (e.g. LASUCC for la_successors.csv, which is not copied from the shared folder)
    own = _read(out / "sources.csv").join(
        pl.concat([sources, later_sources]).select("source_id"), on="source_id", how="anti"
    )
    pl.concat([sources, later_sources, own]).write_csv(out / "sources.csv")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).resolve().parents[1] / "data" / "reference")
