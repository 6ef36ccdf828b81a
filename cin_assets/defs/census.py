"""Raw census returns and the child-level staging tables, one partition per reporting year.

(No `from __future__ import annotations` in defs modules: Dagster reads the context annotations at run time.)
"""

import hashlib
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import polars as pl

from cin_assets import reference
from cin_assets.census import tables
from cin_assets.census.reader import census_files, read_returns
from cin_assets.defs.partitions import partition_year, reporting_year_partitions
from cin_assets.defs.resources import CinDataRoot

OWNERS = ["team:cin-statistics"]
STAGING_TABLES: tuple[str, ...] = (*tables.CHILD_TABLES, "headers")


def staging_key(table: str) -> dg.AssetKey:
    """Asset key of a staging table: ``staging_children``, ``staging_episodes`` ... and ``census_read_issues``."""
    return dg.AssetKey("census_read_issues" if table == "issues" else f"staging_{table}")


# The returns as the LAs send them (census/<year>/<LA>.xml): an external asset, never materialised by a run.
# census_returns inventories a year's files and the next year's look-back reads them; being external, it is
# never part of a backfill, so the look-back edge does not make year Y+1 part of a backfill of year Y.
census_files_spec = dg.AssetSpec(
    "census_files",
    partitions_def=reporting_year_partitions,
    group_name="census",
    kinds={"xml"},
    owners=OWNERS,
    tags={"layer": "raw", "domain": "cin"},
    description=(
        "The children in need census returns on disk, one XML file per local authority under "
        "census/<year>/, as the LAs sent them (not materialised by Dagster: the data root holds them)."
    ),
)
CENSUS_FILES = census_files_spec.key


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# metadata key of the SHA-256 of each return file: on census_returns (every file of the year) and on the
# next year's look-back (the files it counted), so a release can tell when the two no longer match
RETURNS_SHA256 = "returns sha256"


def returns_sha256(files: Sequence[Path]) -> dict[str, str]:
    """File name -> SHA-256 of each of ``files`` as they are on disk."""
    return {f.name: _sha256(f) for f in files}


@dg.asset(
    partitions_def=reporting_year_partitions,
    group_name="census",
    io_manager_key="parquet_io",
    deps=[CENSUS_FILES],
    kinds={"xml", "polars"},
    owners=OWNERS,
    tags={"layer": "raw", "domain": "cin"},
    description=(
        "The children in need census returns for one reporting year: one XML file per local authority "
        "under census/<year>/, inventoried with size and SHA-256 (no child data is read here). Expected "
        "LAs without a return are listed in the metadata."
    ),
)
def census_returns(context: dg.AssetExecutionContext, data_root: CinDataRoot) -> dg.Output[pl.DataFrame]:
    year = partition_year(context)
    files = census_files(data_root.census_dir, year)
    if not files:
        # a year with no returns never publishes (England would read 0)
        raise dg.Failure(
            description=f"[{year}] no census return in {data_root.census_dir / str(year)}: nothing to count; "
            "a year with no returns is never published"
        )
    digests = returns_sha256(files)
    inventory = pl.DataFrame(
        {
            "source_file": [f.name for f in files],
            "path": [str(f) for f in files],
            "bytes": [f.stat().st_size for f in files],
            "sha256": list(digests.values()),
        },
        schema={"source_file": pl.String, "path": pl.String, "bytes": pl.Int64, "sha256": pl.String},
    )
    expected = reference.local_authorities(year, data_root.reference_dir)["old_la_code"].to_list()
    missing = sorted(set(expected) - {f.stem for f in files})
    context.log.info(f"[{year}] {len(files)} census returns, {float(inventory['bytes'].sum()) / 1e6:.1f} MB")
    if missing:
        context.log.warning(f"[{year}] no return from {len(missing)} LAs: {', '.join(missing)}")
    version = hashlib.sha256("".join(inventory["sha256"].to_list()).encode()).hexdigest()[:16]
    return dg.Output(
        inventory,
        data_version=dg.DataVersion(version),
        metadata={
            "returns": len(files),
            "megabytes": round(float(inventory["bytes"].sum()) / 1e6, 2),
            "expected_las": len(expected),
            "missing_las": ", ".join(missing) or "none",
            RETURNS_SHA256: dg.MetadataValue.json(digests),
        },
    )


@dg.multi_asset(
    partitions_def=reporting_year_partitions,
    group_name="staging",
    outs={
        staging_key(t).path[-1]: dg.AssetOut(
            io_manager_key="parquet_io",
            kinds={"polars", "parquet"},
            owners=OWNERS,
            tags={"layer": "staging", "domain": "cin"},
            description=(
                f"Child-level `{t}` table of every return of the reporting year "
                f"(columns: see cin_assets/census/tables.py). Child-level: never shown beyond row counts."
                if t != "issues"
                else "Problems found while reading the returns (unreadable files, bad values, header "
                "mismatches), naming file, line and element."
            ),
            is_required=True,
        )
        for t in (*STAGING_TABLES, "issues")
    },
    deps=[census_returns],
)
def census_staging(context: dg.AssetExecutionContext, data_root: CinDataRoot):
    """Stream every return of the year into typed tables (in parallel across files)."""
    year = partition_year(context)
    files = census_files(data_root.census_dir, year)
    out = read_returns(files, year=year)
    issues = out["issues"]
    errors = issues.filter(pl.col("severity") == "error")
    context.log.info(
        f"[{year}] read {out['children'].height} children from {out['headers'].height} of {len(files)} returns; "
        f"{errors.height} read errors, {issues.height - errors.height} warnings"
    )
    for row in errors.group_by("source_file", "code").len().sort("source_file", "code").iter_rows(named=True):
        context.log.error(f"[{year}] LA file {row['source_file']}: {row['len']} x {row['code']}")
    for table in (*STAGING_TABLES, "issues"):
        yield dg.Output(out[table], output_name=staging_key(table).path[-1])


defs = dg.Definitions(assets=[census_files_spec, census_returns, census_staging])
