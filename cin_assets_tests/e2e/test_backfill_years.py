"""A backfill of the later reporting years, 2021-2025, launched the way the UI's Materialize dialog launches
it (every asset, the years as partition names), on a small census in each year's format: every year is
published and no other year is touched; a requested year without a census fails loudly.

One ``dagster dev`` serves the module; the tests run in file order (the failing year after the backfill).
"""

import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from cin_assets.datasets.catalogue import DATASETS
from cin_assets.synth import generate_census
from cin_assets_tests.e2e.conftest import new_home
from cin_assets_tests.e2e.harness import DagsterDev
from cin_assets_tests.reference_subset import expect_only

pytestmark = pytest.mark.slow

LAS = ("845", "873")
YEARS = [str(y) for y in range(2021, 2026)]


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterDev]:
    base = tmp_path_factory.mktemp("years")
    root = base / "data"
    generate_census(root / "census", [int(y) for y in YEARS], scale=0.02, seed=2, las=LAS, workers=1)
    expect_only(root, LAS)
    with DagsterDev(new_home(base), root) as server:
        yield server


def _time_periods(path: Path) -> set[str]:
    return set(pl.read_csv(path, infer_schema=False)["time_period"].to_list())


def test_backfill_of_2021_to_2025_publishes_every_year(dev: DagsterDev) -> None:
    every_asset = dev.materialisable_assets()
    assert "census_files" not in every_asset  # the returns on disk: external, never part of a run
    done = dev.wait_backfill(dev.launch_backfill(every_asset, YEARS), timeout=2700)
    assert done["status"] == "COMPLETED_SUCCESS", (done, dev.log_tail())
    partitions = {
        tag["value"] for run in done["runs"] for tag in run["tags"] if tag["key"] == "dagster/partition"
    }
    assert partitions == set(YEARS)  # 2026 (downstream of 2025 before the look-back read the returns) is not
    assert all(run["status"] == "SUCCESS" for run in done["runs"])
    published = dev.data_root / "published"
    for code, ds in DATASETS.items():
        # the data set's files are named after the years they hold (the population file after the
        # mid-year estimates, a year earlier)
        stem = re.sub(r"_\d{4}(_to_\d{4})?$", "", ds.stem)
        [data] = [p for p in published.glob(f"{stem}_*[0-9].csv")]
        assert (published / data.name.replace(".csv", ".meta.csv")).exists(), data.name
        if code in ("H", "P"):
            continue
        assert data.name == f"{stem}_{YEARS[0]}_to_{YEARS[-1]}.csv"
        assert _time_periods(data) == set(YEARS), code
    b1 = pl.read_csv(next(published.glob("b1_*[0-9].csv")), infer_schema=False)
    for year in YEARS:  # each year's two LAs, with their children in need at 31 March
        rows = b1.filter((pl.col("time_period") == year) & pl.col("old_la_code").is_in(LAS))
        assert sorted(rows["old_la_code"].unique()) == sorted(LAS), year
        assert rows["at31_episodes"].is_not_null().all()
    # the look-back reads the previous year's returns: 2021 has none (no 2020 census), 2022-2025 have them
    c1 = pl.read_csv(next(published.glob("c1_*[0-9].csv")), infer_schema=False)
    england = c1.filter(pl.col("geographic_level") == "National")
    rereferrals = dict(zip(england["time_period"], england["rereferral_count"], strict=True))
    assert rereferrals["2021"] == "x"  # not available (the EES standard)
    assert all(rereferrals[y].isdigit() for y in YEARS[1:]), rereferrals


def test_backfill_of_a_year_without_census_fails_loudly(dev: DagsterDev) -> None:
    done = dev.wait_backfill(dev.launch_backfill(dev.materialisable_assets(partitioned=True), ["2026"]))
    assert done["status"] == "COMPLETED_FAILED"
    failed = [run["runId"] for run in done["runs"] if run["status"] == "FAILURE"]
    errors = [
        e["error"]["message"]
        for run_id in failed
        for e in dev.graphql(
            """query($id: ID!) { logsForRun(runId: $id) { ... on EventConnection { events {
                 ... on ExecutionStepFailureEvent { stepKey error { message } } } } } }""",
            {"id": run_id},
        )["logsForRun"]["events"]
        if e.get("error")
    ]
    assert any("[2026] no census return in" in m for m in errors), errors
    assert not (dev.data_root / "staging" / "measure_b1" / "2026.parquet").exists()
