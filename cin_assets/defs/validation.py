"""The DfE validation report per reporting year, and the asset checks that surface it.

(No `from __future__ import annotations` in defs modules: Dagster reads the context annotations at run time.)
Errors fail the ``no_validation_errors`` check (severity ERROR, non-blocking: under the default counting
policy the LA is still counted and the report flags it); queries fail ``no_validation_queries`` with
severity WARN. The policy for counted data is the ``validation_policy`` resource (see
:mod:`cin_assets.validation.policy`). Metadata holds counts per LA and rule only, never child identifiers.
"""

import warnings
from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import Field

from cin_assets.defs.census import OWNERS, STAGING_TABLES, staging_key
from cin_assets.defs.partitions import partition_year, reporting_year_partitions
from cin_assets.defs.resources import CinDataRoot
from cin_assets.validation import DEFAULT_POLICY, Policy, apply_policy
from cin_assets.validation.engine import validate_each_la
from cin_assets.validation.policy import excluded_las
from cin_assets.validation.rules import RULES
from cin_assets.validation.rulesets import ruleset

ERRORS_CHECK = "no_validation_errors"
QUERIES_CHECK = "no_validation_queries"
_INPUTS = (*STAGING_TABLES, "issues")
_MAX_TABLE_ROWS = 400

# Partitioned check specs are a Dagster 1.13 preview API; the project pins dagster exactly.
warnings.filterwarnings(
    "ignore", message=r".*partitions_def on an AssetCheckSpec", category=dg.PreviewWarning
)


class ValidationPolicy(dg.ConfigurableResource):
    """What counted data does with returns that fail validation: ``count`` (default), ``exclude_children`` or
    ``exclude_las``; rules in ``ignore_rules`` never exclude anything."""

    policy: str = DEFAULT_POLICY.value
    ignore_rules: list[str] = Field(default_factory=list)

    def apply(self, tables: dict[str, pl.DataFrame], report: pl.DataFrame) -> dict[str, pl.DataFrame]:
        return apply_policy(tables, report, Policy(self.policy), self.ignore_rules)

    def excluded_las(self, report: pl.DataFrame) -> list[str]:
        return excluded_las(report, Policy(self.policy), self.ignore_rules)


# What each code means, shown beside it in the UI: the DfE message of a rule; for the file and value checks
# outside the DfE list, what kind of check it is (their own messages can quote values from a return).
_RULE_TEXT = {rule.code: rule.message for rule in RULES}
_CHECK_TEXT = {
    "file": "file check: the return could not be read as a census return",
    "value": "value check: a value is malformed or not in its code list",
}
REPORT_WHERE = (
    "The child-level report (one row per failure, with child identifiers) is the `census_validation` asset's "
    "partition for this year: a parquet file in the staging area (the asset's `path` metadata). It is never "
    "shown in the UI."
)


def _text(code: str, category: str) -> str:
    text = _RULE_TEXT.get(code) or _CHECK_TEXT.get(category, category)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_counts(report: pl.DataFrame, limit: int = _MAX_TABLE_ROWS) -> str:
    """Failures per LA, file and rule, with the rule's text, as a markdown table (counts only: no child
    identifiers or values)."""
    if report.is_empty():
        return "No validation failures."
    counts = (
        report.group_by("la_code", "source_file", "rule", "type", "category")
        .agg(failures=pl.len(), children=pl.col("LAchildID").drop_nulls().n_unique())
        .sort("la_code", "source_file", "rule", nulls_last=False)
    )
    lines = [
        "| LA | file | rule | type | failures | children | rule text |",
        "|---|---|---|---|---:|---:|---|",
    ]
    lines += [
        f"| {r['la_code'] or '-'} | {Path(r['source_file']).name if r['source_file'] else '-'} | {r['rule']} "
        f"| {r['type']} | {r['failures']} | {r['children']} | {_text(r['rule'], r['category'])} |"
        for r in counts.head(limit).iter_rows(named=True)
    ]
    if counts.height > limit:
        lines.append(f"| ... | {counts.height - limit} more rows | | | | | |")
    return "\n".join(lines)


def _rule_counts(report: pl.DataFrame, kind: str) -> str:
    rows = (
        report.filter(pl.col("type") == kind)
        .group_by("rule", "category")
        .agg(failures=pl.len(), las=pl.col("la_code").n_unique())
        .sort("failures", "rule", descending=[True, False])
    )
    if rows.is_empty():
        return f"No {kind}s."
    lines = ["| rule | rule text | failures | LAs |", "|---|---|---:|---:|"]
    lines += [
        f"| {r['rule']} | {_text(r['rule'], r['category'])} | {r['failures']} | {r['las']} |"
        for r in rows.iter_rows(named=True)
    ]
    return "\n".join(lines)


def _ruleset_changes(year: int) -> str:
    """The overlays that made the year's rule set, as a markdown list (newest first)."""
    changes = ruleset(year).changes
    if not changes:
        return "The base rule set (2013-2020 rules); no later change applies."
    return "\n".join(f"- {y}: {change}" for y, change in reversed(changes))


def _check_result(report: pl.DataFrame, kind: str) -> dg.AssetCheckResult:
    failing = report.filter(pl.col("type") == kind)
    las = failing["la_code"].drop_nulls().unique().sort().to_list()
    return dg.AssetCheckResult(
        check_name=ERRORS_CHECK if kind == "error" else QUERIES_CHECK,
        passed=failing.is_empty(),
        severity=dg.AssetCheckSeverity.ERROR if kind == "error" else dg.AssetCheckSeverity.WARN,
        metadata={
            "failures": failing.height,
            "las": len(las),
            "la_codes": ", ".join(las) or "none",
            "by_rule": dg.MetadataValue.md(_rule_counts(report, kind)),
            "by_la_and_file": dg.MetadataValue.md(markdown_counts(failing)),
            "child_level_report": dg.MetadataValue.md(REPORT_WHERE),
        },
    )


@dg.asset(
    partitions_def=reporting_year_partitions,
    group_name="validation",
    io_manager_key="parquet_io",
    kinds={"polars", "parquet"},
    owners=OWNERS,
    tags={"layer": "staging", "domain": "cin"},
    ins={name: dg.AssetIn(key=staging_key(name)) for name in _INPUTS},
    check_specs=[
        dg.AssetCheckSpec(
            ERRORS_CHECK,
            asset="census_validation",
            partitions_def=reporting_year_partitions,
            blocking=False,
            description="No return of the year fails a DfE validation rule or a file check with an error. "
            "Non-blocking: under the default policy failing LAs are still counted.",
        ),
        dg.AssetCheckSpec(
            QUERIES_CHECK,
            asset="census_validation",
            partitions_def=reporting_year_partitions,
            blocking=False,
            description="No return of the year raises a DfE query (warning only: queries are explained, "
            "not fixed, in COLLECT).",
        ),
    ],
    description=(
        "The DfE children in need census validation report for the reporting year: one row per failure "
        "(LA, file, child, rule, error or query, fields, message, line). Child-level: the UI only shows counts "
        "per LA and rule."
    ),
)
def census_validation(context: dg.AssetExecutionContext, data_root: CinDataRoot, **tables: pl.DataFrame):
    year = partition_year(context)
    report = validate_each_la(tables, year, ref=data_root.reference_dir)
    errors = report.filter(pl.col("type") == "error")
    context.log.info(
        f"[{year}] {errors.height} errors and {report.height - errors.height} queries in "
        f"{report['la_code'].drop_nulls().n_unique()} LAs"
    )
    yield dg.Output(
        report,
        metadata={
            "errors": errors.height,
            "queries": report.height - errors.height,
            "las_with_errors": errors["la_code"].drop_nulls().n_unique(),
            "failures_by_la_and_rule": dg.MetadataValue.md(markdown_counts(report)),
            "rule_set": ruleset(year).name,
            "rule_set_size": len(ruleset(year).rules),
            "rule_set_changes": dg.MetadataValue.md(_ruleset_changes(year)),
            "child_level_report": dg.MetadataValue.md(REPORT_WHERE),
        },
    )
    yield _check_result(report, "error")
    yield _check_result(report, "query")


defs = dg.Definitions(
    assets=[census_validation],
    resources={"validation_policy": ValidationPolicy()},
)
