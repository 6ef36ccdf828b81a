"""``check_year``: every check of one published year, as outcomes the Dagster layer turns into blocking
asset checks. Nothing here reads the suppressor's state: the checks see only the published frames, the
descriptions and public reference data (ONS populations), as an outside attacker would."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandera.polars as pa
import polars as pl

from cin_assets import reference
from cin_assets.census.geography import ENGLAND_CODE, NATIONAL, REGIONAL
from cin_assets.datasets.description import DataSet
from cin_assets.disclosure.audit import (
    FAILURE_SCHEMA,
    additive_failures,
    audit,
    build_system,
    failures_frame,
    linked_failures,
)
from cin_assets.disclosure.config import ROUNDED_LEVELS, DisclosureConfig
from cin_assets.disclosure.schema import RULES, explain, naming_failures, naming_warnings, schema_for

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


def _schema_outcome(
    code: str, frame: pl.DataFrame, ds: DataSet, config: DisclosureConfig, ref: Path | None
) -> CheckOutcome:
    started = time.perf_counter()
    schema = schema_for(ds, config, ref)
    try:
        schema.validate(frame, lazy=True)
        cases = None
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    failures = failures_frame([])
    if cases is not None:
        failures = _schema_failures(code, frame, ds, config, cases, ref)
    return _outcome(
        "schema",
        code,
        failures,
        rows=frame.height,
        cells_checked=frame.height * len(frame.columns),
        seconds=round(time.perf_counter() - started, 3),
    )


def _schema_failures(
    code: str,
    frame: pl.DataFrame,
    ds: DataSet,
    config: DisclosureConfig,
    cases: pl.DataFrame,
    ref: Path | None,
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
    explained = explain(frame, ds, config, rows, ref)
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


def _geo_key() -> pl.Expr:
    """A published row's geography as the population files key it: E92000001, region code, old LA code."""
    return (
        pl.when(pl.col("geographic_level") == NATIONAL)
        .then(pl.lit(ENGLAND_CODE))
        .when(pl.col("geographic_level") == REGIONAL)
        .then(pl.col("region_code"))
        .otherwise(pl.col("old_la_code"))
    )


def default_populations(
    published: Mapping[str, pl.DataFrame], datasets: Mapping[str, DataSet], ref: Path | None = None
) -> dict[str, float]:
    """The public ONS 0-17 populations an attacker would use to turn published rates into counts, from
    the reference folder ``ref``, keyed like the geographies (E92000001, region code, old LA code); empty
    when unknown (and then :func:`population_failures` fails the audit)."""
    for code, frame in published.items():
        ds = datasets[code]
        if frame.is_empty() or not any(i.unit == "rate" for i in ds.indicators):
            continue
        offset = getattr(ds, "period_offset", 0)
        try:
            year = int(frame.get_column("time_period")[0]) - offset
            pop = reference.populations(year, ref)
        except (ValueError, OSError):
            return {}
        table = pop.select(_geo_key().alias("geo"), pl.col("population_0_17").cast(pl.Float64))
        return dict(table.drop_nulls().iter_rows())
    return {}


def population_failures(
    published: Mapping[str, pl.DataFrame],
    datasets: Mapping[str, DataSet],
    populations: Mapping[str, float],
    config: DisclosureConfig = DisclosureConfig(),  # noqa: B008 - frozen
) -> pl.DataFrame:
    """England and regional rates against the populations the audit uses. A published rate without a known
    population cannot be turned into the constraint an attacker would use, so the audit fails rather than
    pass by skipping it (``population_missing``); a rate that no count within the published count's rounding
    gives with that population (``rate_population``) means the audit's populations are not the ones the
    rates were computed with, so its bounds would be wrong."""
    records = []
    for code in sorted(published):
        ds, frame = datasets[code], published[code]
        units = {i.name: i.unit for i in ds.indicators}
        rates = [i for i in ds.indicators if i.unit == "rate"]
        if not rates or frame.is_empty():
            continue
        absent = [c for c in ("region_code", "old_la_code") if c not in frame.columns]  # national files
        rows = (
            frame.with_row_index("row")
            .with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in absent)
            .filter(pl.col("geographic_level").is_in(ROUNDED_LEVELS))
            .with_columns(_geo_key().alias("geo"))
            .with_columns(
                pl.col("geo")
                .replace_strict(dict(populations), default=None, return_dtype=pl.Float64)
                .alias("pop")
            )
        )
        for ind in rates:
            rate = pl.col(ind.name).str.extract(r"^(\d+(?:\.\d+)?)$").cast(pl.Float64)
            shown = rows.filter(rate.is_not_null())
            for r in shown.filter(pl.col("pop").is_null()).iter_rows(named=True):
                records.append(
                    {
                        "dataset": code,
                        "row": r["row"],
                        "column": ind.name,
                        "rule": "population_missing",
                        "message": f"no ONS 0-17 population for {r['geo']} in {r['time_period']}: its rates "
                        "cannot be audited",
                    }
                )
            numerator = ind.numerator
            if numerator is None or units.get(numerator) != "count":
                continue
            count = pl.col(numerator).str.extract(r"^(\d+)$").cast(pl.Int64)
            for r in shown.filter(pl.col("pop").is_not_null(), count.is_not_null()).iter_rows(named=True):
                low, high = config.rounded_interval(int(r[numerator]))
                value, pop = float(r[ind.name]), r["pop"]
                if high * 10_000 / pop < value - 0.05 - 1e-9 or low * 10_000 / pop > value + 0.05 + 1e-9:
                    records.append(
                        {
                            "dataset": code,
                            "row": r["row"],
                            "column": ind.name,
                            "rule": "rate_population",
                            "message": f"rate {value} per 10,000 of {r['geo']} cannot come from "
                            f"{numerator} {r[numerator]} and the population {pop:,.0f}",
                        }
                    )
    return failures_frame(records)


def check_year(
    published: Mapping[str, pl.DataFrame],
    datasets: Mapping[str, DataSet],
    config: DisclosureConfig = DisclosureConfig(),  # noqa: B008 - frozen
    populations: Mapping[str, float] | None = None,
    ref: Path | None = None,
    carried: Collection[str] = (),
) -> list[CheckOutcome]:
    """All checks of one published year: per file the pandera schema and the EES naming rules, then
    across files the linked-cell and additive-group checks and the LP attack audit.

    ``populations``: geography code -> ONS 0-17 population for turning published rates into interval
    constraints (default: the populations of the year in the reference folder ``ref``; the Dagster layer
    passes the data root's). A published England or regional rate without a population fails the audit.
    ``ref`` also gives the LA and region codes the schema accepts (None: the copy shipped with the project).
    ``carried``: LAs declared carry_forward, whose not-available cells are unknowns in the totals.
    """
    outcomes = []
    for code in sorted(published):
        ds = datasets[code]
        outcomes.append(_schema_outcome(code, published[code], ds, config, ref))
        outcomes.append(_names_outcome(code, ds, config))
    started = time.perf_counter()
    pops = dict(populations) if populations is not None else default_populations(published, datasets, ref)
    try:
        system = build_system(published, datasets, config, pops, carried)
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
        "lp_audit",
        None,
        pl.concat(
            [
                result.failures.cast(pl.Schema(FAILURE_SCHEMA)),
                population_failures(published, datasets, pops, config),
            ]
        ),
        **result.metadata,
        populations_known=len(pops),
        build_seconds=built,
    )
    outcomes.append(replace(lp_audit, report=result.report))
    return outcomes
