"""The 28 data sets' unprotected yearly frames as partitioned assets, generated from their descriptions.

Each data set's inputs follow from its description (``cin_assets.measures.requirements``): the staging
tables its counting rules read, the look-back of the previous reporting year's referrals (re-referrals),
or the other data sets a national summary republishes. Rerunning one year rebuilds just that year's
frames. These frames hold unsuppressed counts, so their metadata is row counts and schemas only.

(No `from __future__ import annotations` in defs modules: Dagster reads the context annotations at run time.)
"""

import dagster as dg
import polars as pl

from cin_assets.census.calendar import REPORTING_YEARS
from cin_assets.defs.census import OWNERS, staging_key
from cin_assets.defs.partitions import partition_year, reporting_year_partitions
from cin_assets.defs.resources import column_schema
from cin_assets.measures import build, requirements
from cin_assets.measures.units import LOOKBACK_COLUMNS
from cin_assets.publish.catalogue import DATASETS
from cin_assets.publish.description import DataSet

# Reporting year Y reads year Y-1 (the first year has no earlier census in the series).
PREVIOUS_YEAR = dg.StaticPartitionMapping(
    {str(y - 1): str(y) for y in REPORTING_YEARS if y - 1 in REPORTING_YEARS}
)
PARTITION_FRAMES = dg.DagsterType(
    name="PartitionFrames",
    type_check_fn=lambda _, value: isinstance(value, dict),
    typing_type=dict,
    description="Frames of the upstream partitions that exist, by partition key (empty if none).",
)


def measure_key(code: str) -> dg.AssetKey:
    return dg.AssetKey(f"measure_{code.lower()}")


def lookback_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(f"lookback_{table}")


def _lookback_asset(table: str) -> dg.AssetsDefinition:
    columns = LOOKBACK_COLUMNS[table]

    @dg.asset(
        key=lookback_key(table),
        partitions_def=reporting_year_partitions,
        group_name="measures",
        io_manager_key="parquet_io",
        ins={"staging": dg.AssetIn(staging_key(table))},
        kinds={"polars", "parquet"},
        owners=OWNERS,
        tags={"layer": "measures", "domain": "cin"},
        description=(
            f"The columns of `staging_{table}` the next reporting year's look-back measures read "
            f"({', '.join(columns)}): child-level, never shown beyond row counts."
        ),
    )
    def _asset(staging: pl.DataFrame) -> dg.Output[pl.DataFrame]:
        frame = staging.select(columns)
        return dg.Output(frame, metadata={"dagster/row_count": frame.height})

    return _asset


def _description(ds: DataSet) -> str:
    return (
        f"{ds.code} `{ds.stem}`: {ds.title}. Unprotected rows of one reporting year (unrounded, before "
        f"suppression): {ds.description}"
    )


def _measure_asset(ds: DataSet) -> dg.AssetsDefinition:
    req = requirements(ds)
    ins = {f"staging_{t}": dg.AssetIn(staging_key(t)) for t in req.staging}
    ins |= {
        f"previous_{t}": dg.AssetIn(
            lookback_key(t), partition_mapping=PREVIOUS_YEAR, dagster_type=PARTITION_FRAMES
        )
        for t in req.previous
    }
    ins |= {f"source_{s.lower()}": dg.AssetIn(measure_key(s)) for s in req.sources}

    @dg.asset(
        key=measure_key(ds.code),
        partitions_def=reporting_year_partitions,
        group_name="measures",
        io_manager_key="parquet_io",
        ins=ins,
        required_resource_keys={"data_root"},
        kinds={"polars", "parquet"},
        owners=OWNERS,
        tags={"layer": "measures", "domain": "cin", "series": ds.code[0]},
        description=_description(ds),
    )
    def _asset(context: dg.AssetExecutionContext, **inputs) -> dg.Output[pl.DataFrame]:
        year = partition_year(context)
        tables = {t: inputs[f"staging_{t}"] for t in req.staging}
        previous = None
        if req.previous:
            found = {t: inputs[f"previous_{t}"] for t in req.previous}
            if all(found.values()):
                previous = {t: next(iter(frames.values())) for t, frames in found.items()}
            else:
                context.log.warning(
                    f"[{year}] no {year - 1} census in the series: {ds.code}'s look-back measures are "
                    "published as not available"
                )
        sources = {s: inputs[f"source_{s.lower()}"] for s in req.sources}
        frame = build(ds, year, tables, previous, sources, ref=context.resources.data_root.reference_dir)
        return dg.Output(
            frame,
            metadata={
                "dagster/row_count": frame.height,
                "dagster/column_schema": column_schema(frame),
                "data set": f"{ds.code} {ds.stem}",
                "in this year": ds.first_year <= year <= ds.last_year,
            },
        )

    return _asset


LOOKBACK_ASSETS = [_lookback_asset(t) for t in LOOKBACK_COLUMNS]
MEASURE_ASSETS = [_measure_asset(ds) for ds in DATASETS.values()]

defs = dg.Definitions(assets=[*LOOKBACK_ASSETS, *MEASURE_ASSETS])
