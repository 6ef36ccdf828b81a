"""Disclosure control per reporting year, then the release: the 28 EES files, data guidance and ZIP.

- ``protect_year`` (partitioned multi-asset, group "protected"): the 28 unprotected frames of one year
  go through ``cin_assets.disclosure.protect_year`` together (they share cells), giving the published
  strings of each data set (``protected_<code>``) and the suppression report. Every outcome of
  ``cin_assets.disclosure.check_year`` is a blocking ERROR asset check: per file the pandera schema and
  the EES naming rules, across files linked cells, additive groups and the LP attack audit.
- ``publish_release`` (unpartitioned multi-asset, group "published"): gathers every year's protected
  frames, runs the same checks again on exactly what it is about to write (a run that only publishes
  still cannot write an unchecked year), lays each data set out in the output profile (resource
  ``output_profile``: ``ees`` or ``release2020``, ``cin_assets.publish.profile``), screens every pair with
  the EES screener (blocking check ``eesyscreener`` on each published asset), and only if all pass builds
  the whole release (each ``<stem>.csv`` and ``<stem>.meta.csv``, the file name stating the years
  published, the data guidance, the "download all data" ZIP and a sha256 manifest), stages it in a new
  folder of ``releases/`` and makes it current in one atomic step (:mod:`cin_assets.publish.release_store`).
  A failure or a kill leaves the previous release current and whole.

Metadata shows row counts, schemas, suppression counts and previews of published (protected) rows only.

(No `from __future__ import annotations` in defs modules: Dagster reads the context annotations at run time.)
"""

import dataclasses
import hashlib
import multiprocessing
import os
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import dagster as dg
import polars as pl

from cin_assets.census import exceptions
from cin_assets.census import lookback as lookbacks
from cin_assets.datasets.catalogue import DATASETS
from cin_assets.datasets.description import DataSet
from cin_assets.defs.census import OWNERS, RETURNS_SHA256, STAGING_TABLES, census_returns, staging_key
from cin_assets.defs.inventory import BASIS_KEY, INVENTORY_KEY, LOOKBACK_KEY
from cin_assets.defs.measures import measure_key
from cin_assets.defs.partitions import partition_year, reporting_year_partitions
from cin_assets.defs.resources import column_schema
from cin_assets.disclosure import (
    CheckOutcome,
    DisclosureConfig,
    check_year,
    protect_year,
    summary_metadata,
    suppression_summary,
)
from cin_assets.publish import bundle, ees, guidance, release, release_store
from cin_assets.publish.charts import HEADLINE_CODES, headline_markdown
from cin_assets.validation.policy import POLICY_TEXT, Policy

SYMBOLS = DisclosureConfig()  # the published symbols; the suppression rule is the suppression_rule resource
RULE_KEY = "suppression rule"  # disclosure_report metadata: the rule the year was protected under
FILE_CHECKS = ("schema", "ees_names")  # check_year outcomes per data set
RELEASE_CHECKS = ("linked_cells", "additive_groups", "lp_audit")  # check_year outcomes across files
GUIDANCE_FILE = "data_guidance.md"
SCREENER_CHECK = "eesyscreener"
PREVIEW_ROWS = 12
_TAGS = {"layer": "published", "domain": "cin"}


def protected_key(code: str) -> dg.AssetKey:
    return dg.AssetKey(f"protected_{code.lower()}")


def published_key(code: str) -> dg.AssetKey:
    return dg.AssetKey(f"published_{code.lower()}")


REPORT_KEY = dg.AssetKey("disclosure_report")
GUIDANCE_KEY = dg.AssetKey("data_guidance")
ZIP_KEY = dg.AssetKey("release_zip")
MANIFEST_KEY = dg.AssetKey("release_manifest")


def _check_name(name: str) -> str:
    return f"disclosure_{name}"


def _check_key(outcome: CheckOutcome) -> dg.AssetCheckKey:
    asset = protected_key(outcome.dataset) if outcome.dataset else REPORT_KEY
    return dg.AssetCheckKey(asset, _check_name(outcome.name))


def _check_specs() -> list[dg.AssetCheckSpec]:
    """A blocking check per file and check_year outcome, and one per release-wide outcome."""
    per_file = [
        (protected_key(code), name, f"{name} check of {code}'s published rows")
        for code in DATASETS
        for name in FILE_CHECKS
    ]
    release = [
        (REPORT_KEY, name, f"{name} check across the year's 28 published files") for name in RELEASE_CHECKS
    ]
    # partitioned asset checks are a preview API in Dagster 1.13 (the project pins dagster exactly)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return [
            dg.AssetCheckSpec(
                _check_name(name),
                asset=asset,
                blocking=True,
                partitions_def=reporting_year_partitions,
                description=f"{text} (cin_assets.disclosure.check_year)",
            )
            for asset, name, text in (*per_file, *release)
        ]


CHECK_SPECS = _check_specs()


def _checks(
    published: Mapping[str, pl.DataFrame], ref: Path, config: DisclosureConfig, carried: Sequence[str] = ()
) -> list[CheckOutcome]:
    """Every disclosure check of one year under ``config``'s rule, with the reference data (LA codes, ONS
    populations) of the data root's ``reference/`` folder; ``carried``: the LAs declared carry_forward."""
    return check_year(published, DATASETS, config, ref=ref, carried=carried)


def _carried(basis: pl.DataFrame | None) -> list[str]:
    """The year's LAs declared carry_forward: their not-available cells are unknowns in the totals."""
    if basis is None:
        return []
    return basis.filter(pl.col("basis") == exceptions.CARRY_FORWARD)["la_code"].sort().to_list()


def _failures_markdown(outcome: CheckOutcome, limit: int = 20) -> str:
    """Where a check failed: file, row, column, rule (published values and codes only)."""
    shown = outcome.failures.head(limit)
    lines = ["| file | row | column | rule | message |", "|---|---|---|---|---|"]
    for r in shown.iter_rows(named=True):
        stem = DATASETS[r["dataset"]].stem if r["dataset"] in DATASETS else r["dataset"]
        message = str(r["message"]).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {stem} | {r['row']} | {r['column']} | {r['rule']} | {message} |")
    if outcome.failures.height > limit:
        lines.append(f"\n... and {outcome.failures.height - limit} more")
    return "\n".join(lines)


def _intervals_markdown(report: pl.DataFrame, limit: int = 20) -> str:
    """The suppressed cells an attacker can narrow most: the interval each is known to lie in."""
    width = pl.min_horizontal("up", "proven_up") - pl.max_horizontal("lo", "proven_lo")
    shown = report.with_columns(width.alias("width")).sort("width", "dataset", "row", "column").head(limit)
    lines = ["| file | row | column | interval | safe |", "|---|---|---|---|---|"]
    for r in shown.iter_rows(named=True):
        stem = DATASETS[r["dataset"]].stem if r["dataset"] in DATASETS else r["dataset"]
        lo, up = max(r["lo"], r["proven_lo"]), min(r["up"], r["proven_up"])
        lines.append(f"| {stem} | {r['row']} | {r['column']} | [{lo:g}, {up:g}] | {r['safe']} |")
    return "\n".join(lines)


def _check_result(outcome: CheckOutcome) -> dg.AssetCheckResult:
    key = _check_key(outcome)
    metadata: dict[str, dg.MetadataValue | float | int | str] = {
        k: v for k, v in outcome.metadata.items() if k != "first_failures"
    }
    if not outcome.passed:
        metadata["failures_table"] = dg.MetadataValue.md(_failures_markdown(outcome))
    if outcome.report is not None:
        metadata["narrowest_intervals"] = dg.MetadataValue.md(_intervals_markdown(outcome.report))
    return dg.AssetCheckResult(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
    )


def _preview(frame: pl.DataFrame, ds: DataSet, rows: int = PREVIEW_ROWS) -> dg.MetadataValue:
    """A markdown table of the first published rows (protected values and symbols only)."""
    keep = [c for c in ds.columns if c not in ("time_identifier", "country_code", "country_name")]
    head = frame.select(keep).head(rows)
    lines = ["| " + " | ".join(keep) + " |", "|" + "---|" * len(keep)]
    for row in head.iter_rows():
        lines.append("| " + " | ".join("" if v is None else str(v).replace("|", "\\|") for v in row) + " |")
    return dg.MetadataValue.md("\n".join(lines))


def zip_file_name(latest_year: int) -> str:
    """The "download all data" archive, named after the release's latest reporting year."""
    return f"children_in_need_{latest_year}_all_data.zip"


def _symbol_counts(frame: pl.DataFrame, ds: DataSet, not_available: str) -> dict[str, int]:
    cols = [i.name for i in ds.indicators]
    counts = {}
    for label, symbol in (
        ("suppressed cells (c)", SYMBOLS.suppressed),
        (f"not available cells ({not_available})", not_available),
        ("not applicable cells", SYMBOLS.not_applicable),
    ):
        counts[label] = int(frame.select(pl.sum_horizontal((pl.col(c) == symbol).sum() for c in cols)).item())
    return counts


@dg.multi_asset(
    name="protect_year",
    partitions_def=reporting_year_partitions,
    ins={
        **{f"measure_{code.lower()}": dg.AssetIn(measure_key(code)) for code in DATASETS},
        "counting_basis": dg.AssetIn(BASIS_KEY),
    },
    outs={
        **{
            f"protected_{code.lower()}": dg.AssetOut(
                key=protected_key(code),
                io_manager_key="parquet_io",
                group_name="protected",
                kinds={"polars", "parquet"},
                owners=OWNERS,
                tags=_TAGS,
                description=(
                    f"{code} `{ds.stem}` for one reporting year after disclosure control: counts suppressed "
                    "(c) and rounded, percentages and rates formatted, symbols for not available and not "
                    "applicable."
                ),
            )
            for code, ds in DATASETS.items()
        },
        "disclosure_report": dg.AssetOut(
            key=REPORT_KEY,
            io_manager_key="parquet_io",
            group_name="protected",
            kinds={"polars", "parquet"},
            owners=OWNERS,
            tags=_TAGS,
            description=(
                "One row per suppressed cell of the year's 28 files: file, geography, filters, column, "
                "primary/secondary/derived and which cell or relation a secondary protects (no values)."
            ),
        ),
    },
    check_specs=CHECK_SPECS,
    required_resource_keys={"data_root", "suppression_rule"},
    can_subset=False,
)
def protect_year_asset(context: dg.AssetExecutionContext, **measures):
    """Protect one reporting year's 28 frames together, then check the result (blocking checks)."""
    year = partition_year(context)
    # a data set outside its years (A3 before 2018, H before 2020, ...) has no rows and is not published
    frames = {code: measures[f"measure_{code.lower()}"] for code in DATASETS}
    config = context.resources.suppression_rule.config
    protected = protect_year({c: f for c, f in frames.items() if f.height}, DATASETS, config)
    carried = _carried(measures["counting_basis"])
    indicators = {code: [i.name for i in ds.indicators] for code, ds in DATASETS.items()}
    published = exceptions.not_available(protected.published, indicators, carried, config.not_available)
    protected = dataclasses.replace(protected, published=published)
    summary = suppression_summary(protected, DATASETS)
    context.log.info(
        f"[{year}] {protected.stats.get('primary', 0)} primary and {protected.stats.get('secondary', 0)} "
        f"secondary suppressions ({config.rule} rule)"
    )
    for code, ds in DATASETS.items():
        frame = protected.published.get(code, pl.DataFrame(schema={c: pl.String for c in ds.columns}))
        yield dg.Output(
            frame,
            output_name=f"protected_{code.lower()}",
            metadata={
                "dagster/row_count": frame.height,
                "dagster/column_schema": column_schema(frame),
                **summary_metadata(summary, code),
                "preview": _preview(frame, ds),
            },
        )
    yield dg.Output(
        protected.report,
        output_name="disclosure_report",
        metadata={
            "dagster/row_count": protected.report.height,
            RULE_KEY: config.rule,
            **{k: v for k, v in protected.stats.items() if isinstance(v, int | float)},
        },
    )
    yield from _check_results(
        _checks(protected.published, context.resources.data_root.reference_dir, config, carried)
    )


def _check_results(outcomes: list[CheckOutcome]) -> list[dg.AssetCheckResult]:
    """One result per declared check: the outcomes, and a pass for files with no rows this year."""
    declared = {(s.asset_key, s.name) for s in CHECK_SPECS}
    results = {}
    for outcome in outcomes:
        key = _check_key(outcome)
        if (key.asset_key, key.name) not in declared:
            if not outcome.passed:
                raise dg.Failure(
                    description=f"undeclared disclosure check {outcome.name} failed for {outcome.dataset}"
                )
            continue
        results[(key.asset_key, key.name)] = _check_result(outcome)
    for asset_key, name in sorted(declared - set(results), key=str):
        results[(asset_key, name)] = dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=name,
            passed=True,
            metadata={"rows": 0, "note": "not published this year"},
        )
    return list(results.values())


def _years_of(gathered: Mapping[str, Mapping[str, pl.DataFrame]]) -> list[int]:
    years = {code: set(frames) for code, frames in gathered.items()}
    common = set.intersection(*years.values())
    if any(y != common for y in years.values()):
        raise dg.Failure(
            description="the protected files cover different reporting years; rerun protect_year for them",
            metadata={code: ", ".join(sorted(y)) for code, y in years.items()},
        )
    if not common:
        raise dg.Failure(description="no protected reporting year to publish: materialise protect_year first")
    return sorted(int(y) for y in common)


# what a year's protected files are built from: when any was materialised after them, the files no longer
# show the returns (or the measures) as they now stand
_UPSTREAM_OF_PROTECTED = (
    census_returns.key,
    INVENTORY_KEY,
    LOOKBACK_KEY,
    BASIS_KEY,
    *(measure_key(code) for code in DATASETS),
)


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey, year: int) -> dg.EventLogRecord | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[str(year)]), limit=1
    ).records
    return records[0] if records else None


def _latest_storage_id(instance: dg.DagsterInstance, key: dg.AssetKey, year: int) -> int | None:
    record = _latest(instance, key, year)
    return record.storage_id if record else None


def _returns_sha256(record: dg.EventLogRecord | None) -> dict[str, str] | None:
    materialization = record.asset_materialization if record else None
    value = materialization.metadata.get(RETURNS_SHA256) if materialization else None
    if not isinstance(value, dg.JsonMetadataValue) or not isinstance(value.value, dict):
        return None  # not recorded (a run before the look-back recorded its files)
    return {str(name): str(digest) for name, digest in value.value.items()}


def _stale_lookbacks(instance: dg.DagsterInstance, years: list[int]) -> list[str]:
    """Years whose re-referrals counted returns of the year before other than those now materialised for
    it (a corrected return came in and that year was rerun, or the files changed and only this year was
    rerun): the year's published re-referrals no longer match the returns counted. Compared file by file
    (SHA-256) over the returns the look-back counted, so neither the order a backfill ran the years in nor
    a previous return the team declared unavailable since blocks a release."""
    stale = []
    for year in years:
        read = _returns_sha256(_latest(instance, LOOKBACK_KEY, year))
        now = _returns_sha256(_latest(instance, census_returns.key, year - 1))
        if read is None or now is None:
            continue
        changed = sorted(name for name, digest in read.items() if now.get(name) != digest)
        if changed:
            stale.append(
                f"{year}'s re-referrals looked back on {year - 1} returns ({', '.join(changed)}) other than "
                f"the {year - 1} returns now materialised; rerun {year - 1} if its files changed since its "
                f"last run, then {year} through protect_year"
            )
    return stale


def _same_rule(instance: dg.DagsterInstance, years: list[int], rule: str) -> None:
    """Block a release whose years were protected under another suppression rule than its own: its
    guidance states one rule for every file, and a year protected under ``dfe`` is not ``strict``-safe. A
    year this instance has no record of (a copied data root) is judged by the checks alone, which
    ``_verify`` runs again under the release's rule."""
    other: dict[str, list[str]] = {}
    for year in years:
        record = _latest(instance, REPORT_KEY, year)
        meta = record.asset_materialization.metadata if record and record.asset_materialization else {}
        value = meta.get(RULE_KEY)
        if isinstance(value, dg.TextMetadataValue) and value.value != rule:
            other.setdefault(str(value.value), []).append(str(year))
    if other:
        found = "; ".join(f"{', '.join(ys)} under {name!r}" for name, ys in sorted(other.items()))
        raise dg.Failure(
            description=f"publication blocked: the release follows the {rule!r} suppression rule but "
            f"{found}; rerun those years through protect_year with the {rule!r} rule. The previously "
            "published files are unchanged",
            metadata={"rule": rule, **{name: ", ".join(ys) for name, ys in other.items()}},
        )


def _stale_years(instance: dg.DagsterInstance, years: list[int]) -> dict[int, list[str]]:
    """Years whose protected files are older than something they are built from: e.g. a rerun whose new
    returns were blocked by the inventory check leaves the earlier protected files in storage, and a
    release must not publish them as if they were the returns that came in."""
    stale: dict[int, list[str]] = {}
    for year in years:
        protected_at = _latest_storage_id(instance, REPORT_KEY, year)
        newer = [
            key.to_user_string()
            for key in _UPSTREAM_OF_PROTECTED
            if (at := _latest_storage_id(instance, key, year)) is not None
            and (protected_at is None or at > protected_at)
        ]
        if newer:
            stale[year] = newer
    return stale


# what a year that carries an LA forward reads of its source year without a Dagster dependency (counting_basis'
# source_year, cin_assets.defs.measures._carried): the source year's returns, staging tables and inventory,
# and the inventory of every year between (read to skip the years the LA was carried in)
_READ_FROM_SOURCE = (
    census_returns.key,
    INVENTORY_KEY,
    *(staging_key(t) for t in (*STAGING_TABLES, "issues")),
)


def _stale_carried(
    instance: dg.DagsterInstance, years: list[int], bases: Mapping[str, pl.DataFrame]
) -> dict[str, list[str]]:
    """Years whose carried LAs' figures were read from an earlier year materialised again after the year was
    protected (e.g. a corrected return of the source year): the protected totals still hold the old figures.
    Keyed by a sentence naming the year, the LA and the source year; the values are what changed."""
    stale: dict[str, list[str]] = {}
    for year in years:
        basis = bases.get(str(year))
        if basis is None:
            continue
        protected_at = _latest_storage_id(instance, REPORT_KEY, year)
        carried = basis.filter(pl.col("basis") == exceptions.CARRY_FORWARD).sort("la_code")
        for row in carried.iter_rows(named=True):
            source = row["source_year"]
            reads = [(source, key) for key in _READ_FROM_SOURCE] + [
                (between, INVENTORY_KEY) for between in range(source + 1, year)
            ]
            newer = [
                f"{key.to_user_string()} {at_year}"
                for at_year, key in reads
                if (at := _latest_storage_id(instance, key, at_year)) is not None
                and (protected_at is None or at > protected_at)
            ]
            if newer:
                stale[
                    f"{year} carries {row['la_name']} ({row['la_code']}) from {source}, which was materialised "
                    f"again after {year} was protected; rerun {year} through protect_year"
                ] = newer
    return stale


def _verify(
    years: list[int],
    gathered: Mapping[str, Mapping[str, pl.DataFrame]],
    ref: Path,
    bases: Mapping[str, pl.DataFrame],
    config: DisclosureConfig,
) -> None:
    """Re-run every disclosure check on each year's files under the release's rule; any failure blocks
    the whole release.

    Years are checked in parallel worker processes: the linear-programming audit is single-threaded.
    """
    per_year = [{code: f[str(y)] for code, f in gathered.items() if f[str(y)].height} for y in years]
    carried = [_carried(bases.get(str(y))) for y in years]
    workers = min(len(years), os.cpu_count() or 1)
    if workers > 1:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            outcomes = list(
                pool.map(_checks, per_year, [ref] * len(per_year), [config] * len(years), carried)
            )
    else:
        outcomes = [
            _checks(published, ref, config, c) for published, c in zip(per_year, carried, strict=True)
        ]
    for year, checked in zip(years, outcomes, strict=True):
        failed = [o for o in checked if not o.passed]
        if failed:
            first = failed[0]
            raise dg.Failure(
                description=(
                    f"publication blocked: {year} fails {', '.join(sorted({o.name for o in failed}))}; "
                    "the previously published files are unchanged"
                ),
                metadata={
                    "failed checks": len(failed),
                    "first failures": dg.MetadataValue.md(_failures_markdown(first)),
                },
            )


def _file_metadata(path: Path, data: bytes) -> dict[str, dg.MetadataValue | int | str]:
    """Where a published file was written, its size and checksum (so a reader can verify a copy)."""
    return {
        "path": dg.MetadataValue.path(str(path)),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _trend(code: str, frame: pl.DataFrame) -> dict[str, dg.MetadataValue]:
    """For the headline data sets, the published trend (England and regions, every year) as an inline chart."""
    if code not in HEADLINE_CODES:
        return {}
    return {"trend": dg.MetadataValue.md(headline_markdown({code: frame}, codes=(code,)))}


def _screener_specs() -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            SCREENER_CHECK,
            asset=published_key(code),
            blocking=True,
            description=(
                f"The EES upload screener's checks (eesyscreener 0.3.1, cin_assets.publish.screener) on {code}'s "
                "published data and metadata files: a FAIL blocks the release before any file is written."
            ),
        )
        for code in DATASETS
    ]


def _screener_result(pair: release.PublishedPair) -> dg.AssetCheckResult:
    counts = {v: sum(1 for r in pair.screening if r.result == v) for v in ("PASS", "WARNING", "FAIL")}
    return dg.AssetCheckResult(
        asset_key=published_key(pair.code),
        check_name=SCREENER_CHECK,
        passed=not pair.blocking,
        severity=dg.AssetCheckSeverity.ERROR if pair.blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            "verdict": pair.verdict,
            "checks": len(pair.screening),
            **{f"{k.lower()} checks": n for k, n in counts.items()},
            "screener": dg.MetadataValue.md(release.screening_markdown(pair)),
        },
    )


def _published_schema(ds: DataSet) -> dg.TableSchema:
    """The published columns (all text) with the labels of the metadata file as descriptions."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, "String", description=label or None)
            for name, label in ees.column_labels(ds).items()
        ]
    )


def _release_markdown(releases_dir: Path, current: Path) -> str:
    """The release folders, newest first, marking the current one."""
    lines = ["| release | files | current |", "|---|---:|---|"]
    for folder in reversed(release_store.releases(releases_dir)):
        files = len(release_store.read_manifest(folder)) or sum(1 for p in folder.iterdir() if p.is_file())
        lines.append(f"| {folder.name} | {files} | {'yes' if folder == current else ''} |")
    return "\n".join(lines)


def _returns_counted(bases: Mapping[str, pl.DataFrame]) -> list[str]:
    """The guidance's "Returns counted" notes: the validation policy of each year and every exception."""
    basis = pl.concat([bases[y] for y in sorted(bases)], how="vertical") if bases else None
    if basis is None or basis.is_empty():
        return []
    policies = basis.group_by("policy").agg(pl.col("reporting_year").unique().sort()).sort("policy")
    lines = [
        f"Validation policy `{r['policy']}` ({', '.join(map(str, r['reporting_year']))}): "
        f"{POLICY_TEXT[Policy(r['policy'])]}."
        for r in policies.iter_rows(named=True)
    ]
    notes = exceptions.notes(basis)
    return (
        lines
        + (
            notes
            or ["Every local authority expected in these years made one usable return; all were counted."]
        )
        + lookbacks.notes(basis)
    )


@dg.multi_asset(
    name="publish_release",
    # every reporting-year partition of each protected file: a dict of partition key -> frame
    ins={
        **{f"protected_{code.lower()}": dg.AssetIn(protected_key(code)) for code in DATASETS},
        "counting_basis": dg.AssetIn(BASIS_KEY),
    },
    specs=[
        *(
            dg.AssetSpec(
                published_key(code),
                deps=[protected_key(code), BASIS_KEY],
                group_name="published",
                kinds={"csv"},
                owners=OWNERS,
                tags=_TAGS,
                description=(
                    f"{code}: `{ds.stem}.csv` and `{ds.stem}.meta.csv` in the current release (every year, in "
                    "the output profile's layout; the years in the file name are those published). "
                    f"{ds.title}."
                ),
                metadata={"dagster/column_schema": _published_schema(ds)},
            )
            for code, ds in DATASETS.items()
        ),
        dg.AssetSpec(
            GUIDANCE_KEY,
            deps=[published_key(code) for code in DATASETS],
            group_name="published",
            kinds={"markdown"},
            owners=OWNERS,
            tags=_TAGS,
            description=f"`{GUIDANCE_FILE}`: every file, column, unit, definition and symbol, from the descriptions.",
        ),
        dg.AssetSpec(
            ZIP_KEY,
            deps=[GUIDANCE_KEY, *(published_key(code) for code in DATASETS)],
            group_name="published",
            kinds={"zip"},
            owners=OWNERS,
            tags=_TAGS,
            description=(
                "`children_in_need_<latest year>_all_data.zip`: every data file, its metadata file and the data "
                "guidance (byte-stable)."
            ),
        ),
        dg.AssetSpec(
            MANIFEST_KEY,
            deps=[ZIP_KEY, GUIDANCE_KEY, *(published_key(code) for code in DATASETS)],
            group_name="published",
            kinds={"csv"},
            owners=OWNERS,
            tags=_TAGS,
            description=(
                f"`{release_store.MANIFEST}`: the sha256 of every file of the release. The release is written to "
                "a new folder of `releases/`, checked against this manifest, then made current in one step "
                "(`published` links to it): a failed or killed release leaves the previous one current and whole."
            ),
        ),
    ],
    check_specs=_screener_specs(),
    required_resource_keys={"data_root", "output_profile", "suppression_rule"},
    can_subset=False,
)
def publish_release(context: dg.AssetExecutionContext, **protected):
    """Build every file of the release once every year's files pass the disclosure checks and every pair,
    laid out in the output profile, passes the EES screener; stage them in a new release folder and make
    it current in one atomic step (cin_assets.publish.release_store)."""
    profile = context.resources.output_profile.profile
    config = context.resources.suppression_rule.config
    data_root = context.resources.data_root
    gathered = {code: protected[f"protected_{code.lower()}"] for code in DATASETS}
    years = _years_of(gathered)
    _same_rule(context.instance, years, config.rule)
    stale = _stale_years(context.instance, years)
    carried = _stale_carried(context.instance, years, protected["counting_basis"])
    lookbacks_read = _stale_lookbacks(context.instance, years)
    if stale or carried or lookbacks_read:
        reasons = (
            [
                f"the protected files of {', '.join(map(str, stale))} are older than what they are built from (a "
                "later run changed the returns or measures without protecting them again, e.g. blocked by a failed "
                "check); rerun those years through protect_year"
            ]
            if stale
            else []
        )
        raise dg.Failure(
            description="publication blocked: "
            + "; ".join([*reasons, *carried, *lookbacks_read])
            + ". The previously published files are unchanged",
            metadata={
                **{str(year): ", ".join(keys) for year, keys in stale.items()},
                **{reason: ", ".join(keys) for reason, keys in carried.items()},
            },
        )
    _verify(years, gathered, data_root.reference_dir, protected["counting_basis"], config)
    releases: dict[str, pl.DataFrame] = {}
    pairs: dict[str, release.PublishedPair] = {}
    for code, ds in DATASETS.items():
        releases[code] = ees.release_frame(ds, {y: gathered[code][str(y)] for y in years})
        pairs[code] = release.lay_out(ds, releases[code], profile)
    blocked = [p for p in pairs.values() if p.blocking]
    if blocked:
        raise dg.Failure(
            description=(
                f"publication blocked: the EES screener fails {len(blocked)} file(s) in profile "
                f"{profile.name!r} ({', '.join(p.code for p in blocked)}); the previous release is unchanged"
            ),
            metadata={
                p.description.stem: dg.MetadataValue.md(release.screening_markdown(p)) for p in blocked
            },
        )
    data_files = {name: data for pair in pairs.values() for name, data in pair.files.items()}
    described = {code: pair.description for code, pair in pairs.items()}
    symbols = dataclasses.replace(config, not_available=profile.not_available)
    rows = {code: pair.frame.height for code, pair in pairs.items()}
    # the years published only: counting_basis may hold years run since but not protected
    returns = _returns_counted({y: b for y, b in protected["counting_basis"].items() if int(y) in years})
    text = guidance.data_guidance(described, symbols, rows, returns).encode()
    zip_name = zip_file_name(max(ds.last_year for ds in described.values()))
    archive = bundle.zip_bytes(bundle.release_members(data_files, text, GUIDANCE_FILE))
    files = {**data_files, GUIDANCE_FILE: text, zip_name: archive}
    try:
        done = release_store.publish(
            data_root.published_dir, data_root.releases_dir, files, keep=data_root.keep_releases
        )
    except release_store.ReleaseError as exc:
        raise dg.Failure(
            description=f"release not published, the previous release is unchanged: {exc}"
        ) from exc
    ees.write_bytes_atomic(data_root.release_manifest, release.manifest_bytes(pairs, profile))
    context.log.info(
        f"release {done.id} is current: {data_root.published_dir} -> {done.path}"
        + ("" if done.changed else " (unchanged: same files as before)")
    )
    for code, pair in pairs.items():
        out_ds = pair.description
        name = ees.data_file_name(out_ds)
        yield dg.MaterializeResult(
            asset_key=published_key(code),
            metadata={
                "dagster/row_count": pair.frame.height,
                "dagster/column_schema": _published_schema(out_ds),
                **_file_metadata(done.path / name, pair.files[name]),
                "output profile": profile.name,
                RULE_KEY: config.rule,
                "years": f"{years[0]}-{years[-1]}",
                "eesyscreener": pair.verdict,
                **_symbol_counts(pair.frame, out_ds, profile.not_available),
                "preview": _preview(pair.frame, out_ds),
                **_trend(code, releases[code]),
            },
            check_results=[_screener_result(pair)],
        )
    yield dg.MaterializeResult(
        asset_key=GUIDANCE_KEY,
        metadata={
            **_file_metadata(done.path / GUIDANCE_FILE, text),
            "files described": len(described),
            "output profile": profile.name,
            RULE_KEY: config.rule,
            "returns counted": dg.MetadataValue.md("\n".join(f"- {n}" for n in returns) or "none"),
        },
    )
    yield dg.MaterializeResult(
        asset_key=ZIP_KEY,
        metadata={**_file_metadata(done.path / zip_name, archive), "members": len(data_files) + 1},
    )
    yield dg.MaterializeResult(
        asset_key=MANIFEST_KEY,
        metadata={
            "release": done.id,
            "current release": dg.MetadataValue.path(str(data_root.published_dir)),
            "release folder": dg.MetadataValue.path(str(done.path)),
            "changed": done.changed,
            "files": len(done.manifest),
            "releases": dg.MetadataValue.md(_release_markdown(data_root.releases_dir, done.path)),
        },
    )


defs = dg.Definitions(assets=[protect_year_asset, publish_release])
