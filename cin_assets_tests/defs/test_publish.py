"""Measures, disclosure control and the release as Dagster assets, on a small staged census.

The census is written straight into the staging tables' parquet partitions (the reader has its own
tests) and every count in it is a multiple of 6, so the published values are known exactly.
"""

import shutil
import zipfile
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

import cin_assets.defs.publish as publish_defs
from cin_assets.defs import census, measures
from cin_assets.defs.resources import default_resources
from cin_assets.publish.catalogue import DATASETS
from cin_assets_tests.measures.census_builder import replicated_census

LAS = ["841", "202", "203", "909"]
YEARS = (2019, 2020)
ALL_ASSETS = [
    census.census_returns,
    census.census_staging,
    *measures.LOOKBACK_ASSETS,
    *measures.MEASURE_ASSETS,
    publish_defs.protect_year_asset,
    publish_defs.publish_release,
    publish_defs.data_guidance,
    publish_defs.release_zip,
]
YEAR_ASSETS = [*measures.LOOKBACK_ASSETS, *measures.MEASURE_ASSETS, publish_defs.protect_year_asset]
RELEASE_ASSETS = [publish_defs.publish_release, publish_defs.data_guidance, publish_defs.release_zip]


def _stage(root: Path) -> None:
    shutil.copytree(Path(__file__).resolve().parents[2] / "data" / "reference", root / "reference")
    for year in YEARS:
        for table, frame in replicated_census(year, LAS).items():
            folder = root / "staging" / f"staging_{table}"
            folder.mkdir(parents=True, exist_ok=True)
            frame.write_parquet(folder / f"{year}.parquet")


def _run_year(
    root: Path, instance: dg.DagsterInstance, year: int, selection: list = YEAR_ASSETS
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ALL_ASSETS,
        selection=selection,
        partition_key=str(year),
        instance=instance,
        resources=default_resources(root),
        raise_on_error=False,
    )


def _release(root: Path, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ALL_ASSETS,
        selection=RELEASE_ASSETS,
        instance=instance,
        resources=default_resources(root),
        raise_on_error=False,
    )


def _published(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "published").iterdir())}


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("release") / "data"
    _stage(root)
    # an in-memory instance: the assets pass data through the parquet IO manager and files, and an
    # on-disk event log would spend most of the test writing events
    instance = dg.DagsterInstance.ephemeral()
    years = [_run_year(root, instance, y) for y in YEARS]
    release = _release(root, instance)
    yield root, instance, years, release


def test_each_year_is_measured_protected_and_checked(released) -> None:
    root, _, years, _ = released
    for result in years:
        assert result.success
        checks = result.get_asset_check_evaluations()
        assert len(checks) == len(DATASETS) * 2 + 3
        assert all(c.passed for c in checks)
        assert {c.partition for c in checks} == {result.dagster_run.tags["dagster/partition"]}
        audit = next(c for c in checks if c.check_name == "disclosure_lp_audit")
        assert "| file | row | column | interval | safe |" in audit.metadata["narrowest_intervals"].value
    b1 = pl.read_parquet(root / "staging" / "measure_b1" / "2020.parquet")
    assert b1.filter(pl.col("old_la_code") == "841")["At31_episodes"].item() == 12
    c1_2019 = pl.read_parquet(root / "staging" / "measure_c1" / "2019.parquet")
    assert c1_2019["Re_referrals"].is_null().all()  # no 2018 census: the look-back is not available
    c1_2020 = pl.read_parquet(root / "staging" / "measure_c1" / "2020.parquet")
    # every child of the 2019 census is referred again within 12 months, and c* twice in the year: 4 x 6
    assert c1_2020.filter(pl.col("old_la_code") == "841")["Re_referrals"].item() == 24


def test_metadata_shows_no_unprotected_values(released) -> None:
    _, _, years, _ = released
    for event in years[1].get_asset_materialization_events():
        key = event.asset_key.to_user_string()
        metadata = event.materialization.metadata
        if key.startswith(("measure_", "lookback_")):
            assert set(metadata) <= {"dagster/row_count", "dagster/column_schema", "data set", "in this year"}
        if key == "protected_b1":
            assert "| 2020 | Reporting year |" not in metadata["preview"].value  # trimmed columns
            assert "| 50 |" in metadata["preview"].value  # England children in need, rounded
            assert metadata["suppressed"].value == 0


def test_one_data_set_rebuilds_alone_from_stored_upstream_frames(released) -> None:
    """Selecting one summary data set runs only it, reading the data sets it republishes from storage."""
    root, instance, _, _ = released
    path = root / "staging" / "measure_a1" / "2020.parquet"
    before = path.read_bytes()
    result = _run_year(root, instance, 2020, selection=[measures.measure_key("A1")])
    assert result.success
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [measures.measure_key("A1")]
    assert path.read_bytes() == before


def test_release_writes_every_file_deterministically(released) -> None:
    root, instance, _, release = released
    assert release.success
    files = _published(root)
    expected = {f"{ds.stem}.csv" for ds in DATASETS.values()} | {
        f"{ds.stem}.meta.csv" for ds in DATASETS.values()
    }
    assert expected | {publish_defs.GUIDANCE_FILE, publish_defs.ZIP_FILE} == set(files)
    b1 = pl.read_csv(root / "published" / "b1_children_in_need_2013_to_2020.csv", infer_schema=False)
    assert b1["time_period"].unique(maintain_order=True).to_list() == ["2020", "2019"]
    england = b1.filter(pl.col("time_period") == "2020", pl.col("geographic_level") == "National")
    assert england["At31_episodes"].item() == "50"  # 4 LAs x 12, rounded to the nearest 10
    darlington = b1.filter(pl.col("time_period") == "2020", pl.col("old_la_code") == "841")
    assert darlington["At31_episodes"].item() == "12"
    meta = pl.read_csv(root / "published" / "b1_children_in_need_2013_to_2020.meta.csv", infer_schema=False)
    assert meta.columns[:3] == ["col_name", "col_type", "label"]
    assert meta.filter(pl.col("col_name") == "At31_episodes_rate")["indicator_dp"].item() == "1"
    c1 = pl.read_csv(root / "published" / "c1_referrals_and_rereferrals_2013_to_2020.csv", infer_schema=False)
    assert set(c1.filter(pl.col("time_period") == "2019")["Re_referrals"]) == {":"}
    with zipfile.ZipFile(root / "published" / publish_defs.ZIP_FILE) as archive:
        names = archive.namelist()
        assert len(names) == 2 * len(DATASETS) + 1
        assert (
            archive.read("data/b1_children_in_need_2013_to_2020.csv")
            == files["b1_children_in_need_2013_to_2020.csv"]
        )
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    guidance = files[publish_defs.GUIDANCE_FILE].decode()
    assert all(ds.stem in guidance for ds in DATASETS.values())

    again = _release(root, instance)
    assert again.success
    assert _published(root) == files  # byte-identical, ZIP included


def test_a_corrupted_year_fails_its_check_and_blocks_publication(released, monkeypatch) -> None:
    root, instance, _, _ = released
    before = _published(root)
    real = publish_defs.protect_year

    def unrounded_england(frames, datasets, config):
        protected = real(frames, datasets, config)
        b1 = protected.published["B1"]
        england = pl.col("geographic_level") == "National"
        protected.published["B1"] = b1.with_columns(
            pl.when(england).then(pl.lit("48")).otherwise(pl.col("At31_episodes")).alias("At31_episodes")
        )
        return protected

    monkeypatch.setattr(publish_defs, "protect_year", unrounded_england)
    result = _run_year(root, instance, 2020, [publish_defs.protect_year_asset])
    assert not result.success
    failed = [c for c in result.get_asset_check_evaluations() if not c.passed]
    assert any(
        c.asset_key == dg.AssetKey("protected_b1") and c.check_name == "disclosure_schema" for c in failed
    )
    table = next(c for c in failed if c.check_name == "disclosure_schema").metadata["failures_table"].value
    assert "b1_children_in_need_2013_to_2020" in table and "At31_episodes" in table

    blocked = _release(root, instance)
    assert not blocked.success
    assert _published(root) == before  # the published files are untouched

    monkeypatch.setattr(publish_defs, "protect_year", real)
    assert _run_year(root, instance, 2020, [publish_defs.protect_year_asset]).success
    assert _release(root, instance).success
    assert _published(root) == before


def test_lineage_runs_from_the_census_to_each_published_file() -> None:
    from cin_assets.definitions import defs

    graph = defs.resolve_asset_graph()

    def ancestors(key: dg.AssetKey) -> set[dg.AssetKey]:
        seen, todo = set(), [key]
        while todo:
            for parent in graph.get(todo.pop()).parent_keys:
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    for code in DATASETS:
        up = ancestors(publish_defs.published_key(code))
        assert measures.measure_key(code) in up
        assert dg.AssetKey("census_returns") in up
    assert measures.lookback_key("episodes") in ancestors(measures.measure_key("C1"))
    assert {measures.measure_key(c) for c in ("B1", "C1", "C2")} <= graph.get(
        measures.measure_key("A1")
    ).parent_keys
