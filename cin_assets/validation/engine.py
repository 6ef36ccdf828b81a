"""Run every rule for a reporting year over the child-level tables and build one validation report.

The report has one row per failure. DfE rules (category ``rule``) carry their DfE code; the checks outside
the DfE list carry a short code: file faults (category ``file``: ``xml_syntax``, ``dtd_refused``,
``header_year``, ``la_unknown``, ...) and value faults (category ``value``: ``bad_value``, ``code_list``,
``required``, ...). All rules are built as lazy queries and collected together, so polars runs them in
parallel and shares their common inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import polars as pl
from polars._typing import PolarsDataType

from cin_assets.census import calendar
from cin_assets.validation.files import file_checks
from cin_assets.validation.rule import LA_KEY, Census, Context, Rule, text
from cin_assets.validation.rulesets import ruleset

REPORT_SCHEMA: dict[str, PolarsDataType] = {
    "reporting_year": pl.Int32,
    "la_code": pl.String,
    "source_file": pl.String,
    "LAchildID": pl.String,  # null for return-level and file-level findings
    "rule": pl.String,  # DfE code (Q suffix for queries) or a file/value check code
    "type": pl.String,  # "error" or "query"
    "category": pl.String,  # "rule", "file" or "value"
    "table": pl.String,  # the table whose row failed ("return" for return-level rules)
    "fields": pl.String,  # comma-separated element names the rule looks at
    "line": pl.Int32,  # line of the failing element's start tag in the source file
    "column": pl.Int32,  # column, for XML syntax errors
    "value": pl.String,  # the values that fail, as "Field=value; ..."
    "message": pl.String,
}
SORT = ["reporting_year", "la_code", "source_file", "line", "rule", "LAchildID", "value", "message"]


def _value(rule: Rule, names: list[str]) -> pl.Expr:
    if "value" in names:
        return pl.col("value").cast(pl.String)
    parts = [text("{}={}", f, pl.col(f)) for f in rule.fields if f in names]
    return pl.concat_str(parts, separator="; ") if parts else pl.lit(None, pl.String)


def _rows(rule: Rule, failing: pl.LazyFrame) -> pl.LazyFrame:
    """A rule's failing rows in the report's shape."""
    names = failing.collect_schema().names()

    def col(name: str) -> pl.Expr:
        dtype = REPORT_SCHEMA[name]
        return pl.col(name).cast(dtype) if name in names else pl.lit(None, dtype).alias(name)

    return failing.select(
        col("reporting_year"),
        col("la_code"),
        col("source_file"),
        col("LAchildID")
        if rule.table not in ("return", "headers")
        else pl.lit(None, pl.String).alias("LAchildID"),
        pl.lit(rule.code).alias("rule"),
        pl.lit(rule.type).alias("type"),
        pl.lit("rule").alias("category"),
        pl.lit(rule.table).alias("table"),
        pl.lit(", ".join(rule.fields)).alias("fields"),
        col("line"),
        pl.lit(None, pl.Int32).alias("column"),
        _value(rule, names).alias("value"),
        pl.lit(rule.message).alias("message"),
    )


def _source_files(headers: pl.DataFrame) -> pl.LazyFrame:
    """File name(s) per return; two files for one LA are both named."""
    return (
        headers.lazy()
        .filter(pl.col("source_file").is_not_null())
        .group_by(list(LA_KEY))
        .agg(pl.col("source_file").unique().sort().str.join("; ").alias("file_of_la"))
    )


def _check_year(year: int) -> None:
    if year not in calendar.REPORTING_YEARS:
        raise ValueError(
            f"reporting year {year} is outside {calendar.FIRST_YEAR}-{calendar.LAST_YEAR}, the years these rules "
            "are written for"
        )


def validate(
    tables: Mapping[str, pl.DataFrame],
    year: int,
    rules: Iterable[Rule] | None = None,
    ref: Path | None = None,
) -> pl.DataFrame:
    """Validate one reporting year's tables (any number of LAs): one report row per failure.

    ``tables`` are the reader's frames (every name in ``tables.SCHEMAS``; missing ones count as empty).
    Pure: same tables and year give the same report, sorted by LA, file, line and rule. ``rules`` selects
    the DfE rules to run (default: the year's rule set, :func:`rulesets.ruleset`; the file and value checks
    always run). Raises ValueError for a year outside the reporting years the rules are written for. ``ref`` is the reference folder listing the LAs
    of each year (default: the project's).
    """
    _check_year(year)
    ctx = Context(tables, Census.for_year(year))
    chosen = ruleset(year).rules if rules is None else tuple(r for r in rules if r.applies(year))
    parts = [_rows(r, r.check(ctx)) for r in chosen]
    parts.extend(file_checks(ctx, ref))
    report = (
        pl.concat(parts, how="vertical")
        .join(_source_files(ctx.frames["headers"]), on=list(LA_KEY), how="left", nulls_equal=True)
        .with_columns(pl.coalesce("source_file", "file_of_la").alias("source_file"))
        .select(list(REPORT_SCHEMA))
        .collect()
    )
    return report.sort(SORT, nulls_last=False).unique(keep="first", maintain_order=True)


def validate_each_la(
    tables: Mapping[str, pl.DataFrame],
    year: int,
    ref: Path | None = None,
    rules: Iterable[Rule] | None = None,
) -> pl.DataFrame:
    """:func:`validate`, but an LA whose tables make the validator fail cannot stop the others.

    All LAs are validated together (fast path); only if that raises is each LA validated on its own, and
    an LA that still fails gets one ``validation_failed`` error naming the exception instead of its report.
    """
    _check_year(year)
    rules = ruleset(year).rules if rules is None else tuple(rules)
    try:
        return validate(tables, year, rules, ref=ref)
    except Exception:  # the slow path below finds the LA that fails and reports it
        pass
    las = pl.concat(
        [frame.select(LA_KEY) for frame in tables.values() if LA_KEY[1] in frame.columns],
        how="vertical_relaxed",
    ).unique(maintain_order=True)
    parts = []
    for la in las.iter_rows(named=True):
        one = {
            name: frame.filter(
                (pl.col("reporting_year").eq_missing(la["reporting_year"]))
                & pl.col("la_code").eq_missing(la["la_code"])
            )
            for name, frame in tables.items()
        }
        try:
            parts.append(validate(one, year, rules, ref=ref))
        except Exception as exc:  # reported as a finding: one LA never stops the others
            parts.append(_failure_row(la["la_code"], one["headers"], exc, year))
    return pl.concat(parts, how="vertical") if parts else empty_report()


def _failure_row(la_code: str | None, headers: pl.DataFrame, exc: Exception, year: int) -> pl.DataFrame:
    files = "; ".join(sorted(headers["source_file"].drop_nulls())) if "source_file" in headers.columns else ""
    return pl.DataFrame(
        [
            {
                "reporting_year": year,
                "la_code": la_code,
                "source_file": files or None,
                "rule": "validation_failed",
                "type": "error",
                "category": "file",
                "message": f"{files or 'LA ' + str(la_code)}: the return could not be validated "
                f"({type(exc).__name__}: {str(exc)[:200]}); its other findings are missing",
            }
        ],
        schema=REPORT_SCHEMA,
    )


def empty_report() -> pl.DataFrame:
    return pl.DataFrame(schema=REPORT_SCHEMA)


def summary(report: pl.DataFrame) -> pl.DataFrame:
    """Failures per LA, rule and type (no child identifiers), for logs and Dagster metadata."""
    return (
        report.group_by("la_code", "rule", "type", "category")
        .agg(failures=pl.len(), children=pl.col("LAchildID").drop_nulls().n_unique())
        .sort("la_code", "rule", nulls_last=False)
    )
