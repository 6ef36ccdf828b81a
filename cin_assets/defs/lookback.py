"""The look-back of each reporting year: the previous year's returns that re-referrals read, and whether
each LA's is usable.

Reporting year Y's look-back (``lookback`` step, partition Y) reads year Y-1's returns as they are on disk
(the external asset ``census_files``), not year Y-1's staging tables: no asset of year Y-1 is then an
ancestor of year Y, so a backfill of some years (in the UI: an asset selection and partition names)
targets those years only. Dagster targets every partition a partition mapping puts downstream of the
requested ones, so a staging(Y-1) -> measures(Y) mapping made year Y+1 part of a backfill of year Y, and
that run failed when year Y+1 had no census. The price is reading the previous year's returns twice.

Because the files are read again, they are inventoried again, by the rules of year Y-1's inventory
(``cin_assets.census.lookback``): ``lookback_inventory`` says per LA of year Y whether its Y-1 return is
usable, and its blocking check ``every_la_has_a_usable_lookback`` stops year Y while one is missing,
refused, duplicated or mislabelled with no declaration, instead of publishing undercounted re-referrals.
``lookback_<table>`` holds the previous year's rows of the LAs whose look-back is counted only, a successor
declared ``predecessors`` holding its predecessor's rows under its own code (``reference/la_successors.csv``).

(No `from __future__ import annotations` in defs modules: Dagster reads the context annotations at run time.)
"""

import dagster as dg
import polars as pl

from cin_assets import reference
from cin_assets.census import exceptions
from cin_assets.census import inventory as returns
from cin_assets.census import lookback as lookbacks
from cin_assets.census import tables as census_tables
from cin_assets.census.calendar import REPORTING_YEARS
from cin_assets.census.reader import census_files, read_returns
from cin_assets.defs.census import CENSUS_FILES, OWNERS, RETURNS_SHA256, returns_sha256
from cin_assets.defs.inventory import INVENTORY_KEY, LOOKBACK_KEY, declarations
from cin_assets.defs.partitions import partition_year, reporting_year_partitions
from cin_assets.defs.resources import CinDataRoot, ParquetIOManager
from cin_assets.measures.units import LOOKBACK_COLUMNS

LOOKBACK_CHECK = "every_la_has_a_usable_lookback"

# Reporting year Y's look-back reads year Y-1's returns (the first year has no earlier census in the series).
PREVIOUS_YEAR = dg.StaticPartitionMapping(
    {str(y - 1): str(y) for y in REPORTING_YEARS if y - 1 in REPORTING_YEARS}
)
_FROM_PREVIOUS = [dg.AssetDep(CENSUS_FILES, partition_mapping=PREVIOUS_YEAR)]
_TAGS = {"layer": "measures", "domain": "cin"}


def lookback_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(f"lookback_{table}")


def _table_spec(table: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        lookback_key(table),
        deps=_FROM_PREVIOUS,
        group_name="measures",
        kinds={"polars", "parquet"},
        owners=OWNERS,
        tags=_TAGS,
        description=(
            f"The columns of the previous reporting year's `{table}` table that this year's look-back "
            f"measures read ({', '.join(LOOKBACK_COLUMNS[table])}), read from that year's returns, for the "
            "LAs whose look-back is counted (lookback_inventory): child-level, never shown beyond row "
            "counts. Empty when there is no previous year's census."
        ),
    ).with_io_manager_key("parquet_io")


_INVENTORY_SPEC = dg.AssetSpec(
    LOOKBACK_KEY,
    deps=_FROM_PREVIOUS,
    group_name="measures",
    kinds={"polars", "table"},
    owners=OWNERS,
    tags=_TAGS,
    description=(
        "For every LA expected this year, whether its look-back (its previous year's return, read from disk "
        "now) is usable, by the previous year's inventory rules: counted, no previous census, a new LA, "
        "declared not available or carried forward, or unusable (missing, refused, duplicate, header "
        "mismatch). A successor DfE counted within its own first return (reference la_successors.csv, "
        "own_return) looks back on nothing; one declared predecessors looks back on its predecessors' "
        "returns (looks_back_on). Counts only, never child rows."
    ),
).with_io_manager_key("parquet_io")


def _previous_declarations(data_root: CinDataRoot, io: ParquetIOManager, year: int) -> pl.DataFrame:
    """``la_code``, ``action`` declared for ``year``: exceptions.csv now, then the launchpad declarations
    recorded in the year's stored inventory (a carry_forward given in a run config counts too)."""
    declared = declarations(data_root).filter(pl.col("reporting_year") == year).select("la_code", "action")
    stored = io.read(INVENTORY_KEY, str(year), missing_ok=True)
    if stored is not None:
        recorded = stored.filter(pl.col("declared").is_not_null()).select(
            "la_code", pl.col("declared").alias("action")
        )
        declared = pl.concat([declared, recorded]).unique("la_code", keep="first", maintain_order=True)
    return declared


def previous_inventory(
    data_root: CinDataRoot, io: ParquetIOManager, year: int, tables: dict[str, pl.DataFrame], files: list
) -> pl.DataFrame | None:
    """Year ``year``'s inventory of its ``files`` (all of its folder) as they are now, or None when the
    series has no such year (not a reporting year, or never materialised and no file in its folder).
    ``tables``: the reader's ``headers`` and ``issues`` of the files read (an unread file has no header)."""
    if year not in REPORTING_YEARS:
        return None
    if not files and io.read(INVENTORY_KEY, str(year), missing_ok=True) is None:
        return None
    expected = reference.local_authorities(year, data_root.reference_dir).select(
        pl.col("old_la_code").alias("la_code"), "la_name"
    )
    on_disk = pl.DataFrame(
        {"source_file": [f.name for f in files], "bytes": [f.stat().st_size for f in files]},
        schema={"source_file": pl.String, "bytes": pl.Int64},
    )
    declared = _previous_declarations(data_root, io, year)
    return returns.build(year, expected, on_disk, tables["headers"], tables["issues"], declared)


def _inventory_table(frame: pl.DataFrame) -> dg.TableMetadataValue:
    columns = ["la_code", "la_name", "lookback", "looks_back_on", "files", "status", "reason"]
    rows = frame.select(columns).with_columns(pl.col(pl.String).fill_null(""))
    return dg.MetadataValue.table(
        records=[dg.TableRecord(r) for r in rows.iter_rows(named=True)],
        schema=dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns]),
    )


@dg.multi_asset(
    name="lookback",
    specs=[_INVENTORY_SPEC, *(_table_spec(t) for t in LOOKBACK_COLUMNS)],
    partitions_def=reporting_year_partitions,
    check_specs=[
        dg.AssetCheckSpec(
            LOOKBACK_CHECK,
            asset=LOOKBACK_KEY,
            partitions_def=reporting_year_partitions,
            blocking=True,
            description="Every LA expected this year has a usable previous-year return to look back on "
            "(present, single, correctly labelled, readable), or the team declared that return "
            "(exceptions.csv), or there is none to have (first year of the series, a new LA). Blocking: "
            "otherwise the year's re-referrals would be undercounted, so nothing of it is measured.",
        )
    ],
    required_resource_keys={"data_root", "parquet_io"},
)
def lookback_asset(context: dg.AssetExecutionContext):
    """Read the previous year's returns once: their inventory and the look-back tables."""
    year = partition_year(context)
    data_root: CinDataRoot = context.resources.data_root
    io: ParquetIOManager = context.resources.parquet_io
    files = census_files(data_root.census_dir, year - 1) if year - 1 in REPORTING_YEARS else []
    names = ("headers", "issues", *LOOKBACK_COLUMNS)
    read = read_returns(files, year=year - 1) if files else {t: census_tables.empty(t) for t in names}
    previous = previous_inventory(data_root, io, year - 1, read, files)
    expected = reference.local_authorities(year, data_root.reference_dir).select(
        pl.col("old_la_code").alias("la_code"), "la_name"
    )
    successors = reference.successors(year, data_root.reference_dir)
    frame = lookbacks.build(year, expected, previous, successors)
    now = declarations(data_root).filter(pl.col("reporting_year") == year)
    blocking = lookbacks.unusable(frame, now)
    counted = pl.Series("la_code", lookbacks.counted_las(frame))
    counted_rows = pl.col("lookback") == lookbacks.COUNTED
    # a successor's declared predecessors' ("; "-separated: cin_assets.census.lookback)
    looked_back_files = set(frame.filter(counted_rows)["files"].str.split("; ").explode().drop_nulls())
    statuses = dict(frame.group_by("lookback").len().sort("lookback").iter_rows())
    if previous is None:
        context.log.warning(f"[{year}] no {year - 1} census in the series: no look-back for {year}")
    context.log.info(
        f"[{year}] look-back to {year - 1}: {', '.join(f'{n} {s}' for s, n in statuses.items())}"
    )
    lines = lookbacks.problems(blocking)
    for line in lines:
        context.log.error(line)
    yield dg.Output(
        frame,
        output_name=LOOKBACK_KEY.to_python_identifier(),
        metadata={
            "lookback": _inventory_table(frame),
            **{f"{status} LAs": n for status, n in statuses.items()},
            # the returns of year - 1 counted: a release compares them with that year's census_returns
            RETURNS_SHA256: dg.MetadataValue.json(
                returns_sha256([f for f in files if f.name in looked_back_files])
            ),
        },
    )
    for table, columns in LOOKBACK_COLUMNS.items():
        rows = lookbacks.looked_back_rows(read[table].select(columns), frame)
        yield dg.Output(
            rows,
            output_name=lookback_key(table).to_python_identifier(),
            metadata={"dagster/row_count": rows.height},
        )
    yield dg.AssetCheckResult(
        check_name=LOOKBACK_CHECK,
        asset_key=LOOKBACK_KEY,
        passed=blocking.is_empty(),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "LAs without a usable look-back": blocking.height,
            "la_codes": ", ".join(blocking["la_code"].to_list()) or "none",
            "problems": dg.MetadataValue.md("\n".join(f"- {line}" for line in lines) or "none"),
            "counted look-backs": counted.len(),
            "declared": ", ".join(
                f"{r['la_code']} {r['lookback']}"
                for r in frame.filter(
                    pl.col("lookback").is_in([exceptions.NOT_AVAILABLE, exceptions.CARRY_FORWARD])
                ).iter_rows(named=True)
            )
            or "none",
        },
    )


LOOKBACK_ASSETS = [lookback_asset]

defs = dg.Definitions(assets=LOOKBACK_ASSETS)
