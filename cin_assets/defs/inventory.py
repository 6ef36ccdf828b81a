"""The return inventory of each reporting year, its blocking check, and the counting basis the measures use.

- ``census_inventory``: every LA expected that year with its file, status, children and bytes (a table in
  the UI: counts only), and the team's declared exceptions for the year (``<data root>/exceptions.csv``
  plus the launchpad's run config). Its blocking check ``every_la_has_one_usable_return`` fails while an
  expected LA lacks exactly one usable return without a declaration, so nothing of the year publishes.
- ``counting_basis``: per LA, whether its return is counted, not available (declared, or excluded by the
  validation policy) or carried forward from an earlier year, and whether its look-back (its previous
  year's return, ``lookback_inventory`` of ``cin_assets.defs.lookback``) is counted. The measures read
  it; the data guidance and its metadata state what was applied.

(No `from __future__ import annotations` in defs modules: Dagster reads the context annotations at run time.)
"""

import warnings

import dagster as dg
import polars as pl
from pydantic import Field

from cin_assets import reference
from cin_assets.census import exceptions
from cin_assets.census import inventory as returns
from cin_assets.census import lookback as lookbacks
from cin_assets.defs.census import OWNERS, census_returns, staging_key
from cin_assets.defs.partitions import partition_year, reporting_year_partitions
from cin_assets.defs.resources import CinDataRoot, ParquetIOManager
from cin_assets.defs.validation import ValidationPolicy

INVENTORY_KEY = dg.AssetKey("census_inventory")
BASIS_KEY = dg.AssetKey("counting_basis")
LOOKBACK_KEY = dg.AssetKey("lookback_inventory")
COMPLETE_CHECK = "every_la_has_one_usable_return"
_MAX_ROWS = 200

warnings.filterwarnings(
    "ignore", message=r".*partitions_def on an AssetCheckSpec", category=dg.PreviewWarning
)


class Declaration(dg.Config):
    """One declared exception: what to publish for an LA without a usable return in a reporting year."""

    reporting_year: int
    la_code: str
    action: str  # not_available | carry_forward
    note: str = ""


class InventoryConfig(dg.Config):
    """Declarations added in the launchpad, on top of ``<data root>/exceptions.csv``."""

    declarations: list[Declaration] = Field(default_factory=list)


def declarations(data_root: CinDataRoot, config: InventoryConfig | None = None) -> pl.DataFrame:
    """Every declaration: the data root's file and the run config (a clash between them is an error)."""
    try:
        return exceptions.combine(
            exceptions.read_file(data_root.path / exceptions.FILE_NAME),
            exceptions.from_rows(d.model_dump() for d in (config.declarations if config else [])),
        )
    except exceptions.ExceptionsError as exc:
        raise dg.Failure(description=f"declared exceptions: {exc}") from exc


def _table(frame: pl.DataFrame) -> dg.TableMetadataValue:
    columns = ["la_code", "la_name", "files", "status", "reason", "children", "bytes", "declared"]
    schema = dg.TableSchema(
        columns=[dg.TableColumn(c, "int" if frame.schema[c].is_integer() else "string") for c in columns]
    )
    # every record needs every field: text columns show "" where there is nothing to say
    rows = frame.select(columns).head(_MAX_ROWS).with_columns(pl.col(pl.String).fill_null(""))
    return dg.MetadataValue.table(
        records=[dg.TableRecord(r) for r in rows.iter_rows(named=True)],
        schema=schema,
    )


def _declared_text(frame: pl.DataFrame) -> str:
    rows = frame.filter(pl.col("declared").is_not_null())
    return ", ".join(f"{r['la_code']} {r['declared']}" for r in rows.iter_rows(named=True)) or "none"


@dg.asset(
    key=INVENTORY_KEY,
    partitions_def=reporting_year_partitions,
    group_name="staging",
    io_manager_key="parquet_io",
    kinds={"polars", "table"},
    owners=OWNERS,
    tags={"layer": "staging", "domain": "cin"},
    ins={
        "files": dg.AssetIn(census_returns.key),
        "headers": dg.AssetIn(staging_key("headers")),
        "issues": dg.AssetIn(staging_key("issues")),
    },
    check_specs=[
        dg.AssetCheckSpec(
            COMPLETE_CHECK,
            asset=INVENTORY_KEY,
            partitions_def=reporting_year_partitions,
            blocking=True,
            description="Every LA expected this year (reference la_codes_by_year.csv) has exactly one usable "
            "return, or the team declared what to publish for it (exceptions.csv / run config); no "
            "unexpected file. Blocking: nothing of the year is measured or published while it fails.",
        )
    ],
    description=(
        "The return inventory of the reporting year: for every LA expected that year, its file, status "
        "(loaded / refused with the reason / missing / duplicate / header mismatch), children and bytes, "
        "and the exception the team declared for it, if any. Counts only, never child rows."
    ),
)
def census_inventory(
    context: dg.AssetExecutionContext,
    config: InventoryConfig,
    data_root: CinDataRoot,
    files: pl.DataFrame,
    headers: pl.DataFrame,
    issues: pl.DataFrame,
):
    year = partition_year(context)
    declared = declarations(data_root, config).filter(pl.col("reporting_year") == year)
    expected = reference.local_authorities(year, data_root.reference_dir).select(
        pl.col("old_la_code").alias("la_code"), "la_name"
    )
    frame = returns.build(year, expected, files, headers, issues, declared)
    blocking = returns.unusable(frame)
    statuses = dict(frame.group_by("status").len().sort("status").iter_rows())
    context.log.info(f"[{year}] return inventory: {', '.join(f'{n} {s}' for s, n in statuses.items())}")
    for row in blocking.iter_rows(named=True):
        context.log.error(f"[{year}] LA {row['la_code']} {row['status']}: {row['reason']}")
    yield dg.Output(
        frame,
        metadata={
            "inventory": _table(frame),
            **{f"{status} LAs": n for status, n in statuses.items()},
            "children": int(frame["children"].sum()),
            "declared exceptions": _declared_text(frame),
        },
    )
    yield dg.AssetCheckResult(
        check_name=COMPLETE_CHECK,
        passed=blocking.is_empty() and bool(frame["counted"].any()),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "LAs without one usable return": blocking.height,
            "la_codes": ", ".join(blocking["la_code"].fill_null("?").to_list()) or "none",
            "problems": dg.MetadataValue.md(
                "\n".join(
                    f"- {r['la_code'] or '?'} {r['status']}: {r['reason']}"
                    for r in blocking.iter_rows(named=True)
                )
                or "none"
            ),
            "counted LAs": int(frame["counted"].sum()),
            "declared exceptions": _declared_text(frame),
        },
    )


BASIS_SCHEMA = {
    "reporting_year": pl.Int32,
    "la_code": pl.String,
    "la_name": pl.String,
    "status": pl.String,
    "basis": pl.String,
    "source_year": pl.Int32,
    "note": pl.String,
    "policy": pl.String,
    "lookback": pl.String,
    "looks_back_on": pl.String,
}
COUNTED, EXCLUDED = "counted", "excluded_by_policy"


def _source_year(io: ParquetIOManager, year: int, la_code: str) -> int:
    """The latest earlier year whose return of ``la_code`` was counted, skipping years it was carried."""
    source = year - 1
    while True:
        earlier = io.read(INVENTORY_KEY, str(source), missing_ok=True)
        row = None if earlier is None else earlier.filter(pl.col("la_code") == la_code)
        if row is None or row.is_empty():
            raise dg.Failure(
                description=f"carry_forward of LA {la_code} in {year}: no {source} inventory holds it; "
                f"materialise {source} first or declare not_available"
            )
        if row["counted"].item():
            return source
        if row["declared"].item() != exceptions.CARRY_FORWARD:
            raise dg.Failure(
                description=f"carry_forward of LA {la_code} in {year}: its {source} return was "
                f"{row['status'].item()} and not carried forward either; declare not_available"
            )
        source -= 1


@dg.asset(
    key=BASIS_KEY,
    partitions_def=reporting_year_partitions,
    group_name="measures",
    io_manager_key="parquet_io",
    kinds={"polars"},
    owners=OWNERS,
    tags={"layer": "measures", "domain": "cin"},
    ins={
        "inventory": dg.AssetIn(INVENTORY_KEY),
        "report": dg.AssetIn(dg.AssetKey("census_validation")),
        "lookback": dg.AssetIn(LOOKBACK_KEY),
    },
    required_resource_keys={"parquet_io", "validation_policy"},
    description=(
        "What the measures count for each expected LA of the year: its return (counted), nothing "
        "(not available: declared, or excluded by the validation policy) or an earlier year's return "
        "(carry_forward, England and regional totals only), and whether its look-back (previous year's "
        "return) is counted. States the validation policy used."
    ),
)
def counting_basis(
    context: dg.AssetExecutionContext, inventory: pl.DataFrame, report: pl.DataFrame, lookback: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    year = partition_year(context)
    validation_policy: ValidationPolicy = context.resources.validation_policy
    blocking = returns.unusable(inventory)
    if blocking.height:
        raise dg.Failure(
            description=f"[{year}] {blocking.height} LAs without one usable return and no declaration: "
            f"{', '.join(blocking['la_code'].fill_null('?').to_list())}; see census_inventory"
        )
    short = lookbacks.unusable(lookback, inventory.filter(pl.col("declared").is_not_null()))
    if short.height:
        raise dg.Failure(
            description=f"[{year}] {short.height} LAs without a usable look-back and no declaration: "
            + "; ".join(lookbacks.problems(short))
        )
    excluded = set(validation_policy.excluded_las(report))
    expected = inventory.filter(pl.col("status") != returns.UNEXPECTED)
    io: ParquetIOManager = context.resources.parquet_io
    sources = {
        la: _source_year(io, year, la)
        for la in expected.filter(pl.col("declared") == exceptions.CARRY_FORWARD)["la_code"].to_list()
    }
    basis = expected.select(
        pl.lit(year, pl.Int32).alias("reporting_year"),
        "la_code",
        "la_name",
        "status",
        pl.when(pl.col("declared").is_not_null())
        .then(pl.col("declared"))
        .when(pl.col("la_code").is_in(sorted(excluded)))
        .then(pl.lit(EXCLUDED))
        .otherwise(pl.lit(COUNTED))
        .alias("basis"),
        pl.col("la_code").replace_strict(sources, default=None, return_dtype=pl.Int32).alias("source_year"),
        pl.lit(None, pl.String).alias("note"),
        pl.lit(validation_policy.policy).alias("policy"),
    ).join(lookback.select("la_code", "lookback", "looks_back_on"), on="la_code", how="left")
    if not basis.filter(pl.col("basis") == COUNTED).height:
        raise dg.Failure(
            description=f"[{year}] no LA return is counted: a year with no returns never publishes"
        )
    applied = basis.filter(pl.col("basis") != COUNTED)
    context.log.info(
        f"[{year}] counting {basis.height - applied.height} LAs under the '{validation_policy.policy}' policy; "
        + (
            ", ".join(f"{r['la_code']} {r['basis']}" for r in applied.iter_rows(named=True))
            or "no exceptions"
        )
    )
    return dg.Output(
        basis.select(pl.col(c).cast(t) for c, t in BASIS_SCHEMA.items()),
        metadata={
            "validation policy": validation_policy.policy,
            "counted LAs": basis.height - applied.height,
            "applied": ", ".join(
                f"{r['la_code']} {r['basis']}" + (f" from {r['source_year']}" if r["source_year"] else "")
                for r in applied.iter_rows(named=True)
            )
            or "none",
            "look-back not counted": ", ".join(
                f"{r['la_code']} {r['lookback']}"
                for r in basis.filter(pl.col("lookback") != lookbacks.COUNTED).iter_rows(named=True)
            )
            or "none",
        },
    )


defs = dg.Definitions(assets=[census_inventory, counting_basis])
