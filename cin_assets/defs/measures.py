"""The 28 data sets' unprotected yearly frames as partitioned assets, generated from their descriptions.

Each data set's inputs follow from its description (``cin_assets.measures.requirements``): the staging
tables its counting rules read, the look-back of the previous reporting year's referrals (re-referrals,
``cin_assets.defs.lookback``: only the LAs whose look-back the counting basis counts), or the other data
sets a national summary republishes; that is each asset's lineage. All 28 are computed
by one subsettable multi-asset step per year, so the child-level tables are read once, not 28 times.
Rerunning one year rebuilds just that year's frames. These frames hold unsuppressed counts, so their metadata is row counts and schemas only.

(No `from __future__ import annotations` in defs modules: Dagster reads the context annotations at run time.)
"""

from typing import cast

import dagster as dg
import polars as pl

from cin_assets import reference
from cin_assets.census import lookback as lookbacks
from cin_assets.census import tables as census_tables
from cin_assets.census.calendar import REPORTING_YEARS
from cin_assets.census.exceptions import CARRY_FORWARD
from cin_assets.census.reader import census_files, read_returns
from cin_assets.datasets.catalogue import DATASETS
from cin_assets.datasets.description import DataSet
from cin_assets.defs.census import OWNERS, staging_key
from cin_assets.defs.inventory import BASIS_KEY, COUNTED
from cin_assets.defs.lookback import lookback_key, previous_inventory
from cin_assets.defs.partitions import partition_year, reporting_year_partitions
from cin_assets.defs.resources import CinDataRoot, ParquetIOManager, column_schema
from cin_assets.defs.validation import ValidationPolicy
from cin_assets.measures import build_all, requirements
from cin_assets.measures.units import LOOKBACK_COLUMNS, Context
from cin_assets.validation.policy import Policy


def measure_key(code: str) -> dg.AssetKey:
    return dg.AssetKey(f"measure_{code.lower()}")


def _description(ds: DataSet) -> str:
    return (
        f"{ds.code} `{ds.stem}`: {ds.title}. Unprotected rows of one reporting year (unrounded, before "
        f"suppression): {ds.description}"
    )


def _spec(ds: DataSet) -> dg.AssetSpec:
    """One data set's asset: its own upstream staging tables, look-back and source data sets as lineage."""
    req = requirements(ds)
    deps = [
        BASIS_KEY,
        *(staging_key(t) for t in req.staging),
        *(lookback_key(t) for t in req.previous),
        *(measure_key(s) for s in req.sources),
    ]
    return dg.AssetSpec(
        measure_key(ds.code),
        deps=deps,
        group_name="measures",
        kinds={"polars", "parquet"},
        owners=OWNERS,
        tags={"layer": "measures", "domain": "cin", "series": ds.code[0]},
        description=_description(ds),
        skippable=True,
    ).with_io_manager_key("parquet_io")


@dg.multi_asset(
    name="measures",
    specs=[_spec(ds) for ds in DATASETS.values()],
    partitions_def=reporting_year_partitions,
    can_subset=True,
    required_resource_keys={"data_root", "parquet_io", "validation_policy"},
)
def measures_asset(context: dg.AssetExecutionContext):
    """Build the selected data sets of one year in one step, reading each staging table once.

    One step instead of 28 saves a process start and 28 parquet reads of the same child-level tables per
    year, and the data sets share their unit tables (``build_all``); each data set stays its own asset
    (own lineage, own materialisation, selectable on its own).
    """
    year = partition_year(context)
    io: ParquetIOManager = context.resources.parquet_io
    selected = [code for code in DATASETS if measure_key(code) in context.selected_asset_keys]
    reqs = {code: requirements(DATASETS[code]) for code in selected}
    names = sorted({t for r in reqs.values() for t in r.staging})
    basis = io.read(BASIS_KEY, str(year))
    tables = counted_tables(context, basis, {t: io.read(staging_key(t), str(year)) for t in names})
    previous_tables = sorted({t for r in reqs.values() for t in r.previous})
    if previous_tables and "lookback" not in basis.columns:
        raise dg.Failure(
            description=f"[{year}] counting_basis predates the look-back inventory: rerun {year}"
        )
    # the look-back of the LAs whose previous return is counted, and of no other (lookback_inventory)
    looked_back = pl.col("la_code").is_in(
        basis.filter(pl.col("lookback") == lookbacks.COUNTED)["la_code"].implode()
    )
    loaded = {
        t: cast(pl.DataFrame, io.read(lookback_key(t), str(year))).filter(looked_back)
        for t in previous_tables
    }
    previous = {t: frame for t, frame in loaded.items() if not frame.is_empty()}
    # successors counted within their own first return, as DfE did (la_successors.csv, own_return)
    own_return = basis.filter(pl.col("lookback") == lookbacks.OWN_RETURN)["la_code"].to_list()
    if len(previous) < len(loaded) and not own_return:
        context.log.warning(
            f"[{year}] no LA's {year - 1} return is looked back on (lookback_inventory): "
            f"{', '.join(c for c in selected if reqs[c].previous)}'s look-back measures are published as "
            "not available"
        )
    wanted = {s for r in reqs.values() for s in r.sources} - set(selected)
    carried = _carried(io, context.resources.data_root, basis, names, previous_tables)
    frames = build_all(
        {code: DATASETS[code] for code in selected},
        year,
        tables,
        previous=previous if len(previous) == len(loaded) else None,
        sources={s: io.read(measure_key(s), str(year)) for s in sorted(wanted)},
        ref=context.resources.data_root.reference_dir,
        # a carried LA's row holds its carried figures until protect_year publishes it as not available
        counted=basis.filter(pl.col("basis").is_in([COUNTED, CARRY_FORWARD]))["la_code"].to_list(),
        carried=carried,
        own_return=own_return,
    )
    for code, frame in frames.items():
        ds = DATASETS[code]
        yield dg.Output(
            frame,
            output_name=measure_key(code).to_python_identifier(),
            metadata={
                "dagster/row_count": frame.height,
                "dagster/column_schema": column_schema(frame),
                "data set": f"{ds.code} {ds.stem}",
                "in this year": ds.first_year <= year <= ds.last_year,
            },
        )


def counted_tables(
    context: dg.AssetExecutionContext, basis: pl.DataFrame, tables: dict[str, pl.DataFrame]
) -> dict[str, pl.DataFrame]:
    """The staging rows the measures count: the counted LAs' returns, under the validation policy."""
    counted = pl.Series("la_code", basis.filter(pl.col("basis") == COUNTED)["la_code"])
    tables = {t: frame.filter(pl.col("la_code").is_in(counted)) for t, frame in tables.items()}
    policy: ValidationPolicy = context.resources.validation_policy
    if policy.policy == Policy.COUNT.value:
        return tables
    report = context.resources.parquet_io.read(dg.AssetKey("census_validation"), context.partition_key)
    return policy.apply(tables, report)


def _carried(
    io: ParquetIOManager, data_root: CinDataRoot, basis: pl.DataFrame, names: list[str], previous: list[str]
) -> Context | None:
    """The earlier year's tables of the LAs declared ``carry_forward`` (one source year per run), with their
    look-back read from the returns of the year before it under a year's own look-back rules
    (``cin_assets.census.lookback``: an unusable one with no declaration stops the year; a carried LA
    whose look-back is not counted adds referrals but no re-referrals, as for any such LA)."""
    carried = basis.filter(pl.col("basis") == CARRY_FORWARD)
    if carried.is_empty():
        return None
    years = carried["source_year"].unique().to_list()
    if len(years) != 1:
        raise dg.Failure(description=f"carry_forward from several years at once ({years}) is not supported")
    source, las = years[0], carried["la_code"]
    mine = pl.col("la_code").is_in(las)
    # without missing_ok a missing table raises, so each read is a frame
    tables = {t: cast(pl.DataFrame, io.read(staging_key(t), str(source))).filter(mine) for t in names}
    if not previous:
        return Context(source, tables, None)
    successors = reference.successors(source, data_root.reference_dir)
    # the carried LAs' returns of the year before, or their predecessors' (la_successors.csv)
    linked = successors.filter(
        (pl.col("first_year_lookback") == lookbacks.PREDECESSORS) & pl.col("la_code").is_in(las.implode())
    )
    wanted = set(las.to_list()) | set(linked["predecessor_la_code"].to_list())
    every = census_files(data_root.census_dir, source - 1) if source - 1 in REPORTING_YEARS else []
    # the carried LAs' files, and any file not named by an LA code (its header says which LA it is for)
    files = [f for f in every if f.stem in wanted or not f.stem.isdigit()]
    tables_read = ("headers", "issues", *previous)
    earlier = (
        read_returns(files, year=source - 1) if files else {t: census_tables.empty(t) for t in tables_read}
    )
    status = lookbacks.build(
        source,
        carried.select("la_code", "la_name"),
        previous_inventory(data_root, io, source - 1, earlier, every),
        successors,
    )
    blocked = lookbacks.unusable(status)
    if blocked.height:
        raise dg.Failure(description="carry_forward: " + "; ".join(lookbacks.problems(blocked)))
    before = {t: lookbacks.looked_back_rows(earlier[t].select(LOOKBACK_COLUMNS[t]), status) for t in previous}
    own = frozenset(status.filter(pl.col("lookback") == lookbacks.OWN_RETURN)["la_code"])
    rows = before if any(not f.is_empty() for f in before.values()) else None
    return Context(source, tables, rows, own_return=own)


MEASURE_ASSETS = [measures_asset]

defs = dg.Definitions(assets=MEASURE_ASSETS)
