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


def inconsistent_icpc(year: int, ref: Path | None = None) -> dict[str, int]:
    """{LA code: published CPP starts} of the LAs whose published ICPC count for ``year`` is below their
    published CPP starts (Lancashire 2014: 118 ICPCs for 1,291 plans; Doncaster 2022: 307 for 437; 8 LA-years
    2013-2025). No return without errors holds that pair: a plan starting in the year must start on the date
    of an ICPC of its episode (rule 2885), a child's plans cannot start on the same day (8940), and DfE's own
    rule 2883 ("more child protection plans starting than initial conferences taking place", S47 and
    episode-level conferences counted) is an error. The synthetic census holds as many ICPCs as CPP starts
    there (``cin_assets.synth.calibration``: ``ICPC_adjusted``)."""
    icpc = reference.published_values("ICPC", year, LOCAL, ref).rename({"published": "icpc"})
    starts = reference.published_values("CPP_start", year, LOCAL, ref).rename({"published": "starts"})
    number = pl.col("icpc").cast(pl.Int64, strict=False), pl.col("starts").cast(pl.Int64, strict=False)
    return dict(
        icpc.join(starts, on="old_la_code")
        .filter(number[0] < number[1])
        .select("old_la_code", number[1])
        .iter_rows()
    )


def compare_las(
    frames: Mapping[str, pl.DataFrame], year: int, las: Iterable[str] | None = None, ref: Path | None = None
) -> pl.DataFrame:
    """One row per calibrated measure and LA: the pipeline's unprotected value, the published text and
    ``status``: ``equal``, ``differs``, ``suppressed`` (published ``c``/``x``: nothing to compare),
    ``missing`` (no pipeline row) or ``inconsistent``: an ICPC count published below the LA's CPP starts
    (:func:`inconsistent_icpc`), where the pipeline counts exactly as many ICPCs as the published CPP starts,
    the fewest a return without errors can hold."""
    wanted = None if las is None else list(las)
    floor = inconsistent_icpc(year, ref)
    parts = []
    for code, column in CALIBRATED:
        ours = frames[code].filter(pl.col("geographic_level") == LOCAL)
        if wanted is not None:
            ours = ours.filter(pl.col("old_la_code").is_in(wanted))
        published = reference.published_values(column, year, LOCAL, ref)
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
                .when(
                    (pl.lit(column) == "ICPC")
                    & (pl.col("pipeline") == pl.col("old_la_code").replace_strict(floor, default=None))
                )
                .then(pl.lit("inconsistent"))
                .otherwise(pl.lit("differs"))
                .alias("status"),
            )
        )
    return pl.concat(parts).sort("measure", "old_la_code")


def _carried_published(column: str, year: int, ref: Path | None) -> int:
    """What DfE's England total of ``year`` holds for the LAs it carried forward."""
    return sum(reference.carried_values(column, year, ref).values())


def compare_england(frames: Mapping[str, pl.DataFrame], year: int, ref: Path | None = None) -> pl.DataFrame:
    """One row per calibrated measure: England unrounded and rounded to 10, the published figure, match.
    England is the LAs' sum plus, as DfE did, the figures of the LAs it carried forward (``frames`` are built
    from the year's returns only, so their published values of the source year stand for them).
    ``inconsistent``: for ICPCs, how many more the LAs of :func:`inconsistent_icpc` must hold than DfE
    published; ``explained``: England less that rounds to the published figure."""
    rows = []
    floor = inconsistent_icpc(year, ref)
    icpc = reference.published_values("ICPC", year, LOCAL, ref).filter(
        pl.col("old_la_code").is_in(list(floor))
    )
    excess = sum(floor.values()) - int(icpc["published"].cast(pl.Int64).sum())
    for code, column in CALIBRATED:
        total = frames[code].filter(pl.col("geographic_level") == NATIONAL)[column].item()
        total += _carried_published(column, year, ref)
        published = reference.published_values(column, year, NATIONAL, ref)["published"].cast(pl.Int64).item()
        extra = excess if column == "ICPC" else 0
        rows.append(
            {
                "measure": column,
                "pipeline": total,
                "pipeline_rounded": round_half_up(total),
                "published": published,
                "equal": round_half_up(total) == published,
                "inconsistent": extra,
                "explained": extra > 0 and round_half_up(total - extra) == published,
            }
        )
    return pl.DataFrame(rows)
