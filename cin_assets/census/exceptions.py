"""The team's declared exceptions: what to publish for an LA without exactly one usable return.

Declared in ``<data root>/exceptions.csv`` (versioned with the returns) or in the run config, one row per
reporting year and LA::

    reporting_year,la_code,action,note
    2020,204,carry_forward,cyber attack: no 2020 return (as DfE did for Hackney in 2021 and 2022)

- ``not_available``: the LA's cells are published as not available; England and regional totals count
  the LAs that returned; a footnote names the LA.
- ``carry_forward``: the LA's figures of the latest earlier year it was counted in enter the England and
  regional totals; its own cells are not available; a footnote says so.

Nothing is ever guessed: an LA without a usable return and without a declaration stops the year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import polars as pl
from polars._typing import PolarsDataType

from cin_assets.census.geography import LOCAL

NOT_AVAILABLE, CARRY_FORWARD = "not_available", "carry_forward"
ACTIONS = (NOT_AVAILABLE, CARRY_FORWARD)
FILE_NAME = "exceptions.csv"
SCHEMA: dict[str, PolarsDataType] = {
    "reporting_year": pl.Int32,
    "la_code": pl.String,
    "action": pl.String,
    "note": pl.String,
    "declared_in": pl.String,
}


class ExceptionsError(ValueError):
    """A declaration that cannot be applied: unknown action, bad year or LA code, or declared twice."""


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def _checked(frame: pl.DataFrame, where: str) -> pl.DataFrame:
    missing = {"reporting_year", "la_code", "action"} - set(frame.columns)
    if missing:
        raise ExceptionsError(f"{where}: missing column(s) {', '.join(sorted(missing))}")
    frame = frame.with_columns(
        pl.col(c).cast(pl.String).str.strip_chars() for c in ("reporting_year", "la_code", "action")
    )
    if "note" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("note"))
    for n, row in enumerate(frame.iter_rows(named=True), start=1):
        if not (row["reporting_year"] or "").isdigit():
            raise ExceptionsError(f"{where}, row {n}: reporting_year {row['reporting_year']!r} is not a year")
        if not (row["la_code"] or "").isdigit():
            raise ExceptionsError(f"{where}, row {n}: la_code {row['la_code']!r} is not a DfE LA code")
        if row["action"] not in ACTIONS:
            raise ExceptionsError(
                f"{where}, row {n}: action {row['action']!r} is not one of {', '.join(ACTIONS)} (never 0)"
            )
    return frame.select(
        pl.col("reporting_year").cast(pl.Int32),
        "la_code",
        "action",
        pl.col("note").cast(pl.String),
        pl.lit(where).alias("declared_in"),
    )


def read_file(path: Path) -> pl.DataFrame:
    """The declarations in ``path`` (none if the file does not exist)."""
    if not path.exists():
        return empty()
    return _checked(pl.read_csv(path, infer_schema=False, comment_prefix="#"), str(path.name))


def from_rows(rows: Iterable[Mapping[str, object]], where: str = "run config") -> pl.DataFrame:
    """Declarations given as mappings (the launchpad's run config)."""
    rows = [dict(r) for r in rows]
    if not rows:
        return empty()
    return _checked(pl.DataFrame(rows, infer_schema_length=None), where)


def combine(*declarations: pl.DataFrame) -> pl.DataFrame:
    """All declarations; the same year and LA declared twice with different actions is an error."""
    frame = pl.concat([d for d in declarations], how="vertical").unique(
        ["reporting_year", "la_code", "action"], keep="first", maintain_order=True
    )
    clash = frame.filter(pl.len().over("reporting_year", "la_code") > 1)
    if clash.height:
        first = clash.row(0, named=True)
        raise ExceptionsError(
            f"LA {first['la_code']} in {first['reporting_year']} is declared both "
            f"{' and '.join(sorted(clash.filter(pl.col('la_code') == first['la_code'])['action']))}"
        )
    return frame.sort("reporting_year", "la_code")


def notes(basis: pl.DataFrame, policy_text: str | None = None) -> list[str]:
    """The guidance's footnotes for a counting basis (``counting_basis`` rows of one or more years): one per
    LA not counted from its own return, naming it, the year and what the published figures hold."""
    rows = basis.filter(pl.col("basis") != "counted").sort("reporting_year", "la_code")
    out = []
    for r in rows.iter_rows(named=True):
        la = f"{r['la_name']} ({r['la_code']})"
        why = {
            NOT_AVAILABLE: "declared not available",
            CARRY_FORWARD: "declared carry forward",
            "excluded_by_policy": f"excluded by the '{r['policy']}' validation policy",
        }.get(r["basis"], r["basis"])
        status = "" if r["status"] == "loaded" else f" (return {r['status'].replace('_', ' ')})"
        text = (
            f"{r['reporting_year']}: {la}{status}, {why}. Its figures are not available in every file; England "
            f"and regional figures include "
        )
        if r["basis"] == CARRY_FORWARD:
            text += f"its {r['source_year']} figures in their place."
        else:
            text += "only the local authorities whose returns were counted."
        out.append(text)
    return out


def not_available(
    published: Mapping[str, pl.DataFrame],
    indicators: Mapping[str, Iterable[str]],
    las: Iterable[str],
    symbol: str,
) -> dict[str, pl.DataFrame]:
    """Published frames with every indicator cell of the ``las``' own rows set to ``symbol``.

    For ``carry_forward`` LAs: their rows hold the carried figures up to disclosure control, so that the
    England and regional sums hold and small carried counts are protected like any other, and are published
    as not available only here, after suppression.
    """
    las = sorted(las)
    if not las:
        return dict(published)
    out = {}
    for code, frame in published.items():
        if "old_la_code" not in frame.columns:
            out[code] = frame
            continue
        own = pl.col("old_la_code").is_in(las) & (pl.col("geographic_level") == LOCAL)
        out[code] = frame.with_columns(
            pl.when(own).then(pl.lit(symbol)).otherwise(pl.col(c)).alias(c) for c in indicators[code]
        )
    return out
