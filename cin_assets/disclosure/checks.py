"""``check_year``: every check of one published year, as outcomes the Dagster layer turns into blocking
asset checks. Nothing here reads the suppressor's state: the checks see only the published frames, the
descriptions and public reference data (ONS populations), as an outside attacker would."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import pandera.polars as pa
import polars as pl

from cin_assets import reference
from cin_assets.disclosure.audit import (
    FAILURE_SCHEMA,
    additive_failures,
    audit,
    build_system,
    failures_frame,
    linked_failures,
)
from cin_assets.disclosure.config import DisclosureConfig
from cin_assets.disclosure.schema import RULES, explain, naming_failures, naming_warnings, schema_for
from cin_assets.publish.description import DataSet

MAX_FAILURES_IN_METADATA = 20


@dataclass(frozen=True)
class CheckOutcome:
    """One check's result. ``failures``: dataset, row (0-based data row of the published frame, null for
    file-level problems), column, rule, message; never child data."""

    name: str
    dataset: str | None
    passed: bool
    failures: pl.DataFrame
    metadata: dict[str, float | int | str] = field(default_factory=dict)
    report: pl.DataFrame | None = None  # lp_audit: every suppressed cell's interval (AuditResult.report)


def _outcome(name: str, dataset: str | None, failures: pl.DataFrame, **metadata) -> CheckOutcome:
    failures = failures.cast(pl.Schema(FAILURE_SCHEMA))
    meta = {"failures": failures.height, **metadata}
    if failures.height:
        shown = failures.head(MAX_FAILURES_IN_METADATA)
        meta["first_failures"] = "\n".join(
            f"{r['dataset']} row {r['row']} {r['column']}: {r['rule']} - {r['message']}"
            for r in shown.iter_rows(named=True)
        )
    return CheckOutcome(
        name=name, dataset=dataset, passed=failures.is_empty(), failures=failures, metadata=meta
    )


def _schema_outcome(code: str, frame: pl.DataFrame, ds: DataSet, config: DisclosureConfig) -> CheckOutcome:
    started = time.perf_counter()
    schema = schema_for(ds, config)
    try:
        schema.validate(frame, lazy=True)
        cases = None
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    failures = failures_frame([])
    if cases is not None:
        failures = _schema_failures(code, frame, ds, config, cases)
    return _outcome(
        "schema",
        code,
        failures,
        rows=frame.height,
        cells_checked=frame.height * len(frame.columns),
        seconds=round(time.perf_counter() - started, 3),
    )


def _schema_failures(
    code: str, frame: pl.DataFrame, ds: DataSet, config: DisclosureConfig, cases: pl.DataFrame
) -> pl.DataFrame:
    """pandera's failure cases as (dataset, row, column, rule, message): structural problems as
    pandera reports them, rule failures of a row resolved to the columns that break them."""
    by_row = (pl.col("schema_context") == "DataFrameSchema") & pl.col("index").is_not_null()
    if cases.filter(pl.col("check") == "column_in_dataframe").height:
        # rules over a missing column cannot run; the missing column is the failure to report
        cases = cases.filter(
            ~pl.col("failure_case").cast(pl.String).str.contains("ColumnNotFoundError").fill_null(False)
        )
    records = [
        {
            "dataset": code,
            "row": r["index"],
            "column": r["column"],
            "rule": r["check"] or "schema",
            "message": f"{r['check']}: {r['failure_case']}",
        }
        for r in cases.filter(~by_row).iter_rows(named=True)
    ]
    rows = cases.filter(by_row).get_column("index").unique().sort().to_list()
    explained = explain(frame, ds, config, rows)
    values = (
        frame.with_row_index("row")
        .select(pl.col("row").cast(pl.Int64), pl.all().exclude("row").cast(pl.String))
        .unpivot(index="row", variable_name="column", value_name="published")
    )
    explained = explained.join(values, on=["row", "column"], how="left")
    for r in explained.iter_rows(named=True):
        message = RULES.get(r["rule"], r["rule"])
        if r["column"] is not None:
            message = f"{message} (published {r['published']!r})"
        records.append(
            {"dataset": code, "row": r["row"], "column": r["column"], "rule": r["rule"], "message": message}
        )
    return failures_frame(records).unique(maintain_order=True)


def _names_outcome(code: str, ds: DataSet, config: DisclosureConfig) -> CheckOutcome:
    found = naming_failures(ds)
    # columns DfE published under that very name (e.g. C3's Female_Genital_Mutilation) keep it: reported,
    # not failed, so the release matches the published files
    records = [
        {"dataset": code, "row": None, "column": col or None, "rule": rule, "message": msg}
        for col, rule, msg in found
        if col not in ds.legacy_names
    ]
    warnings = [
        f"{col}: {msg} (kept: DfE published this name)" for col, _rule, msg in found if col in ds.legacy_names
    ]
    warnings += naming_warnings(ds)
    if config.not_available in ("~", ":"):
        warnings.append(
            f"not-available symbol {config.not_available!r} is obsolete: eesyscreener's ind_invalid_entry "
            "fails it; use 'x' for new releases"
        )
    return _outcome(
        "ees_names", code, failures_frame(records), warnings=len(warnings), warning_text="\n".join(warnings)
    )


def default_populations(
    published: Mapping[str, pl.DataFrame], datasets: Mapping[str, DataSet]
) -> dict[str, float]:
    """The public ONS 0-17 populations an attacker would use to turn published rates into counts,
    keyed like the geographies (E92000001, region code, old LA code); empty when unknown."""
    for code, frame in published.items():
        ds = datasets[code]
        if frame.is_empty() or not any(i.unit == "rate" for i in ds.indicators):
            continue
        offset = getattr(ds, "period_offset", 0)
        try:
            year = int(frame.get_column("time_period")[0]) - offset
            pop = reference.populations(year)
        except (ValueError, OSError):
            return {}
        key = (
            pl.when(pl.col("geographic_level") == "National")
            .then(pl.lit(reference.ENGLAND[0]))
            .when(pl.col("geographic_level") == "Regional")
            .then(pl.col("region_code"))
            .otherwise(pl.col("old_la_code"))
        )
        table = pop.select(key.alias("geo"), pl.col("population_0_17").cast(pl.Float64))
        return dict(table.drop_nulls().iter_rows())
    return {}


def check_year(
    published: Mapping[str, pl.DataFrame],
    datasets: Mapping[str, DataSet],
    config: DisclosureConfig = DisclosureConfig(),  # noqa: B008 - frozen
    populations: Mapping[str, float] | None = None,
) -> list[CheckOutcome]:
    """All checks of one published year: per file the pandera schema and the EES naming rules, then
    across files the linked-cell and additive-group checks and the LP attack audit.

    ``populations``: geography code -> ONS 0-17 population for turning published rates into interval
    constraints (default: the shipped reference populations of the year)."""
    outcomes = []
    for code in sorted(published):
        ds = datasets[code]
        outcomes.append(_schema_outcome(code, published[code], ds, config))
        outcomes.append(_names_outcome(code, ds, config))
    started = time.perf_counter()
    pops = dict(populations) if populations is not None else default_populations(published, datasets)
    try:
        system = build_system(published, datasets, config, pops)
    except (pl.exceptions.PolarsError, KeyError) as err:
        failed = failures_frame(
            [{"dataset": None, "row": None, "column": None, "rule": "unreadable", "message": str(err)}]
        )
        return outcomes + [_outcome(n, None, failed) for n in ("linked_cells", "additive_groups", "lp_audit")]
    built = round(time.perf_counter() - started, 3)
    cells = system.cells.height
    outcomes.append(_outcome("linked_cells", None, linked_failures(system), count_cells=cells))
    outcomes.append(
        _outcome(
            "additive_groups",
            None,
            additive_failures(system),
            relations=system.relations.get_column("rel").n_unique(),
        )
    )
    result = audit(system)
    lp_audit = _outcome(
        "lp_audit", None, result.failures, **result.metadata, populations_known=len(pops), build_seconds=built
    )
    outcomes.append(replace(lp_audit, report=result.report))
    return outcomes
