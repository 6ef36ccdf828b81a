"""Rebuild data/reference/ from the team's shared reference folder (run by hand, never at run time).

Usage: python tools/refresh_reference.py ../shared/reference

It keeps only the columns the project uses, so the shipped files stay small; data/reference/README.md
names every source.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

GEO = ["geographic_level", "region_code", "old_la_code", "new_la_code"]
KEEP_LONG = ["source_id", "indicator", "time_period", *GEO, "value"]
FIRST_YEAR, LAST_YEAR = 2013, 2020


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def main(shared: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    geos = _read(shared / "geographies.csv")
    geos.write_csv(out / "geographies.csv")

    # LAs valid in each reporting year, with the GSS code the published files give them that year
    # (Gateshead, Northumberland and Buckinghamshire changed GSS code; Dorset, Poole and Bournemouth
    # became Dorset and BCP in 2020).
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
    # 2020-21 had the same 151 LAs as 2020 (Northamptonshire split only from 2021-22), so a 2021 census
    # partition needs no other reference change.
    la_2021 = las.filter(pl.col("time_period") == "2020").with_columns(time_period=pl.lit("2021"))
    pl.concat([las, la_2021]).sort("time_period", "old_la_code").write_csv(out / "la_codes_by_year.csv")

    indicators.filter(~pl.col("indicator").str.ends_with("_revpop")).select(KEEP_LONG).write_csv(
        out / "published_la_indicators.csv"
    )
    _read(shared / "cin_assessment_factors.csv").select(KEEP_LONG).write_csv(
        out / "published_assessment_factors.csv"
    )
    _read(shared / "lait_cin_indicators.csv").select(KEEP_LONG).write_csv(out / "lait_indicators.csv")
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
    _read(shared / "population_0_17_by_la.csv").select(
        "mid_year", pl.col("used_for_reporting_year").alias("time_period"), *GEO, "population_0_17"
    ).write_csv(out / "population_0_17_revised_vintage.csv")
    _read(shared / "sources.csv").write_csv(out / "sources.csv")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).resolve().parents[1] / "data" / "reference")
