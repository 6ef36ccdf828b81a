"""Compare the pipeline's unprotected LA values with the real published ones, for the calibrated measures.

The synthetic census is calibrated so that, counted with this package's definitions, these measures equal
the published LA values of every LA and year: referrals, children in need at 31 March, section 47
enquiries, ICPCs, CPPs starting, CPPs at 31 March, children awaiting assessment at 31 March, referrals
resulting in no further action, referrals assessed as not in need and second or subsequent plans. England figures are then the sum of the LAs, and
rounded to the nearest 10 they must equal the published England figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import polars as pl

from cin_assets import reference
from cin_assets.census.geography import LOCAL, NATIONAL

# (data set, published column name) of each calibrated measure.
CALIBRATED: tuple[tuple[str, str], ...] = (
    ("C1", "Referrals"),
    ("B1", "At31_episodes"),
    ("C4", "Section47"),
    ("C4", "ICPC"),
    ("D3", "CPP_start"),
    ("D5", "CPP_At31"),
    ("B1", "Awaiting_assessment"),
    ("C1", "No_Further_Action"),
    ("C1", "Not_in_Need"),
    ("D3", "CPP_subsequent"),
)


def round_half_up(value: int, base: int = 10) -> int:
    """Nearest multiple of ``base``, halves up (the release's rounding of England and regional counts)."""
    return ((value + base // 2) // base) * base


def _published(indicator: str, year: int, level: str, ref: Path | None) -> pl.DataFrame:
    return (
        reference.published_indicators(ref)
        .filter(
            (pl.col("indicator") == indicator)
            & (pl.col("time_period") == str(year))
            & (pl.col("geographic_level") == level)
        )
        .select(pl.col("old_la_code").fill_null(""), pl.col("value").alias("published"))
    )


def compare_las(
    frames: Mapping[str, pl.DataFrame], year: int, las: Iterable[str] | None = None, ref: Path | None = None
) -> pl.DataFrame:
    """One row per calibrated measure and LA: the pipeline's unprotected value, the published text and
    ``status``: ``equal``, ``differs``, ``suppressed`` (published ``c``/``x``: nothing to compare) or
    ``missing`` (no pipeline row)."""
    wanted = None if las is None else list(las)
    parts = []
    for code, column in CALIBRATED:
        ours = frames[code].filter(pl.col("geographic_level") == LOCAL)
        if wanted is not None:
            ours = ours.filter(pl.col("old_la_code").is_in(wanted))
        published = _published(column, year, LOCAL, ref)
        if wanted is not None:
            published = published.filter(pl.col("old_la_code").is_in(wanted))
        joined = published.join(
            ours.select("old_la_code", pl.col(column).alias("pipeline")), on="old_la_code", how="left"
        )
        number = pl.col("published").cast(pl.Int64, strict=False)
        parts.append(
            joined.select(
                pl.lit(column).alias("measure"),
                "old_la_code",
                "pipeline",
                "published",
                pl.when(number.is_null())
                .then(pl.lit("suppressed"))
                .when(pl.col("pipeline").is_null())
                .then(pl.lit("missing"))
                .when(pl.col("pipeline") == number)
                .then(pl.lit("equal"))
                .otherwise(pl.lit("differs"))
                .alias("status"),
            )
        )
    return pl.concat(parts).sort("measure", "old_la_code")


def _carried_published(column: str, year: int, ref: Path | None) -> int:
    """What DfE's England total of ``year`` holds for the LAs it carried forward (Hackney 2021-2022,
    Hampshire 2024): each one's published value of its latest earlier year without an exception."""
    declared = reference.dfe_exceptions(ref)
    total = 0
    for la in declared.filter((pl.col("reporting_year") == year) & (pl.col("action") == "carry_forward"))[
        "la_code"
    ]:
        years = set(declared.filter(pl.col("la_code") == la)["reporting_year"].to_list())
        source = max(y for y in range(2013, year) if y not in years)
        value = _published(column, source, LOCAL, ref).filter(pl.col("old_la_code") == la)
        total += int(value["published"].item())
    return total


def compare_england(frames: Mapping[str, pl.DataFrame], year: int, ref: Path | None = None) -> pl.DataFrame:
    """One row per calibrated measure: England unrounded and rounded to 10, the published figure, match.
    England is the LAs' sum plus, as DfE did, the figures of the LAs it carried forward (``frames`` are built
    from the year's returns only, so their published values of the source year stand for them)."""
    rows = []
    for code, column in CALIBRATED:
        total = frames[code].filter(pl.col("geographic_level") == NATIONAL)[column].item()
        total += _carried_published(column, year, ref)
        published = _published(column, year, NATIONAL, ref)["published"].cast(pl.Int64).item()
        rows.append(
            {
                "measure": column,
                "pipeline": total,
                "pipeline_rounded": round_half_up(total),
                "published": published,
                "equal": round_half_up(total) == published,
            }
        )
    return pl.DataFrame(rows)
