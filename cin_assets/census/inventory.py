"""The return inventory of one reporting year: every expected LA, its return and whether it can be counted.

An LA is counted only when exactly one usable return sits at its place (``census/<year>/<LA code>.xml``):
read without a file-level fault and with a header naming that LA and year. Anything else is a status the
team must see and decide on (a declared exception, :mod:`cin_assets.census.exceptions`), never a guess:

- ``loaded``: one return, read; its children are counted.
- ``refused``: the file could not be read as a return (hostile, unreadable, not well-formed, ...); the
  reason is the reader's message.
- ``missing``: no file for the LA.
- ``duplicate``: two or more files for the LA (the reason names every one); none is counted.
- ``header_mismatch``: the header's LEA or Year disagrees with the file's place; not counted and never
  moved to the LA the header names.
- ``unexpected``: a file for no LA expected that year (its rows are never counted).

Plain polars, no Dagster: the defs layer wires it (``cin_assets.defs.inventory``).
"""

from __future__ import annotations

import polars as pl
from polars._typing import PolarsDataType

LOADED, REFUSED, MISSING, DUPLICATE, MISMATCH, UNEXPECTED = (
    "loaded",
    "refused",
    "missing",
    "duplicate",
    "header_mismatch",
    "unexpected",
)
# reader issue codes after which nothing of the file is loaded
REFUSING_CODES = (
    "unreadable",
    "empty_file",
    "file_too_large",
    "dtd_refused",
    "wrong_root",
    "xml_syntax",
    "no_root",
)
MISMATCH_CODES = ("header_lea", "header_year")

SCHEMA: dict[str, PolarsDataType] = {
    "reporting_year": pl.Int32,
    "la_code": pl.String,
    "la_name": pl.String,
    "files": pl.String,
    "status": pl.String,
    "reason": pl.String,
    "children": pl.Int64,
    "bytes": pl.Int64,
    "declared": pl.String,
    "counted": pl.Boolean,
}


def file_la(source_file: pl.Expr, header_lea: pl.Expr) -> pl.Expr:
    """The LA a file is for: its place (``<LA code>.xml``), or the header's LEA when the name is not a code."""
    stem = source_file.str.replace(r"\.[xX][mM][lL]$", "")
    return pl.when(stem.str.contains(r"^\d+$")).then(stem).otherwise(header_lea)


def build(
    year: int,
    expected: pl.DataFrame,
    files: pl.DataFrame,
    headers: pl.DataFrame,
    issues: pl.DataFrame,
    declared: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The inventory of reporting ``year`` (columns :data:`SCHEMA`, one row per expected LA, then unexpected
    files).

    ``expected``: ``la_code``, ``la_name`` of the LAs expected that year; ``files``: ``source_file``,
    ``bytes`` of every file in the year's folder; ``headers`` and ``issues``: the reader's tables for those
    files; ``declared``: ``la_code``, ``action`` of the team's declared exceptions for the year. ``counted``
    is true only for a loaded return with no declaration.
    """
    per_file = _file_status(files, headers, issues)
    las = per_file.group_by("la").agg(
        pl.col("source_file").sort().str.join(", ").alias("files"),
        pl.len().alias("n"),
        pl.col("status").first(),
        pl.col("reason").first(),
        pl.col("children").sum(),
        pl.col("bytes").sum(),
    )
    duplicate = pl.col("n") > 1
    rows = (
        expected.select("la_code", "la_name")
        .join(las.rename({"la": "la_code"}), on="la_code", how="left")
        .with_columns(
            pl.when(pl.col("n").is_null())
            .then(pl.lit(MISSING))
            .when(duplicate)
            .then(pl.lit(DUPLICATE))
            .otherwise(pl.col("status"))
            .alias("status"),
            pl.when(pl.col("n").is_null())
            .then(pl.format("no return: census/{}/{}.xml does not exist", pl.lit(year), pl.col("la_code")))
            .when(duplicate)
            .then(pl.format("{} files for one LA: {}; none is counted", pl.col("n"), pl.col("files")))
            .otherwise(pl.col("reason"))
            .alias("reason"),
            pl.col("children").fill_null(0),
            pl.col("bytes").fill_null(0),
        )
    )
    unexpected = per_file.join(expected.select(pl.col("la_code").alias("la")), on="la", how="anti").select(
        pl.col("la").alias("la_code"),
        pl.lit(None, pl.String).alias("la_name"),
        pl.col("source_file").alias("files"),
        pl.lit(UNEXPECTED).alias("status"),
        pl.format(
            "{}: no LA {} is expected in {} (reference la_codes_by_year.csv); not counted",
            pl.col("source_file"),
            pl.col("la").fill_null("?"),
            pl.lit(year),
        ).alias("reason"),
        "children",
        "bytes",
    )
    declared = (
        declared if declared is not None else pl.DataFrame(schema={"la_code": pl.String, "action": pl.String})
    )
    out = (
        pl.concat([rows.select(unexpected.columns), unexpected], how="vertical")
        .join(declared.select("la_code", pl.col("action").alias("declared")), on="la_code", how="left")
        .with_columns(
            pl.lit(year, pl.Int32).alias("reporting_year"),
            ((pl.col("status") == LOADED) & pl.col("declared").is_null()).alias("counted"),
        )
    )
    return out.select(pl.col(c).cast(t) for c, t in SCHEMA.items())


def _file_status(files: pl.DataFrame, headers: pl.DataFrame, issues: pl.DataFrame) -> pl.DataFrame:
    """One row per file: ``la`` it is for, status (loaded/refused/header_mismatch), reason, children, bytes."""
    errors = issues.filter(pl.col("severity") == "error")
    refusal = (
        errors.filter(pl.col("code").is_in(REFUSING_CODES))
        .group_by("source_file")
        .agg(pl.col("message").first().alias("refusal"))
    )
    # a header Year that is no year at all disagrees with the folder as much as another year does
    bad_year = (pl.col("code") == "bad_value") & (pl.col("element") == "Year") & pl.col("LAchildID").is_null()
    mismatch = (
        errors.filter(pl.col("code").is_in(MISMATCH_CODES) | bad_year)
        .group_by("source_file")
        .agg(pl.col("message").sort().str.join("; ").alias("mismatch"))
    )
    head = headers.select("source_file", pl.col("LEA"), pl.col("children"), pl.lit(True).alias("has_header"))
    frame = (
        files.select("source_file", "bytes")
        .join(head, on="source_file", how="left")
        .join(refusal, on="source_file", how="left")
        .join(mismatch, on="source_file", how="left")
    )
    return frame.select(
        "source_file",
        file_la(pl.col("source_file"), pl.col("LEA")).alias("la"),
        pl.when(pl.col("refusal").is_not_null() | pl.col("has_header").is_null())
        .then(pl.lit(REFUSED))
        .when(pl.col("mismatch").is_not_null())
        .then(pl.lit(MISMATCH))
        .otherwise(pl.lit(LOADED))
        .alias("status"),
        pl.coalesce(
            "refusal",
            pl.when(pl.col("has_header").is_null()).then(
                pl.format("{}: no <Header>: not a census return", pl.col("source_file"))
            ),
            "mismatch",
        ).alias("reason"),
        pl.col("children").fill_null(0),
        "bytes",
    )


def unusable(inventory: pl.DataFrame) -> pl.DataFrame:
    """Rows that stop the year from publishing: an expected LA without exactly one usable return and no
    declaration, and any unexpected file."""
    return inventory.filter(
        ((pl.col("status") != LOADED) & pl.col("declared").is_null()) | (pl.col("status") == UNEXPECTED)
    )


def counted_las(inventory: pl.DataFrame) -> list[str]:
    """The LAs whose returns enter this year's figures."""
    return inventory.filter(pl.col("counted"))["la_code"].sort().to_list()
