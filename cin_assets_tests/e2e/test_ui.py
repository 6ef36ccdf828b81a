"""The Dagster UI as the statistics team's workbench, on the default SQLite instance: lineage, the run
queue, a backfill of two reporting years through GraphQL, a rerun of one year from the UI in a real
browser, and the release with its tables and trend charts.

One ``dagster dev`` serves the module; the tests run in file order and build on each other's runs (the
backfill, then the UI rerun of one of its years, then the release of both years).
"""

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from cin_assets.defs.validation import QUERIES_CHECK
from cin_assets_tests.e2e.conftest import new_data_root, new_home
from cin_assets_tests.e2e.harness import DagsterDev
from cin_assets_tests.e2e.ui import browser_page, materialise_year_from_ui, screenshot, show_run

# generated returns raise DfE queries as real ones do (8899Q, 8825Q): the warning-level query check fails,
# every other check passes
_EXPECTED = {QUERIES_CHECK: "FAILED"}

pytestmark = pytest.mark.slow

YEAR = "2019"
BACKFILL = ["2019", "2020"]
DATA_SETS = 28


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory, census_source: Path) -> Iterator[DagsterDev]:
    base = tmp_path_factory.mktemp("ui")
    with DagsterDev(new_home(base), new_data_root(base, census_source)) as server:
        yield server


def _year_assets(dev: DagsterDev) -> list[str]:
    return dev.materialisable_assets(partitioned=True)


def _materialisations(dev: DagsterDev, asset: str, partition: str) -> list[str]:
    """Run ids of the asset's materialisations of ``partition``."""
    data = dev.graphql(
        """query($key: AssetKeyInput!, $p: [String!]) { assetOrError(assetKey: $key) { ... on Asset {
             assetMaterializations(partitions: $p) { runId } } } }""",
        {"key": {"path": [asset]}, "p": [partition]},
    )
    return [m["runId"] for m in data["assetOrError"]["assetMaterializations"]]


def _materialised_by(dev: DagsterDev, assets: list[str], partition: str) -> set[str]:
    """The runs that last materialised ``partition`` of each of ``assets`` (one aliased query)."""
    fields = "\n".join(
        f'a{i}: assetOrError(assetKey: {{path: ["{asset}"]}}) {{ ... on Asset {{ '
        f'assetMaterializations(partitions: ["{partition}"], limit: 1) {{ runId }} }} }}'
        for i, asset in enumerate(assets)
    )
    data = dev.graphql(f"{{ {fields} }}")
    return {m["runId"] for i in range(len(assets)) for m in data[f"a{i}"]["assetMaterializations"]} | {
        "missing" for i in range(len(assets)) if not data[f"a{i}"]["assetMaterializations"]
    }


def test_lineage_reads_as_the_pipeline(dev: DagsterDev) -> None:
    with browser_page() as page:
        page.goto(dev.url("/asset-groups"))
        for group in ("census", "staging", "validation", "measures", "protected", "published"):
            page.get_by_text(group, exact=True).first.wait_for()
        screenshot(page, "ui_global_lineage")
        page.goto(dev.url(f"/locations/{dev.location}/asset-groups/published/list"))
        for asset in ("data_guidance", "published_a1", "published_b1"):
            page.get_by_text(asset, exact=True).first.wait_for()
        page.goto(dev.url("/assets/published_b1?view=lineage"))
        page.get_by_text("protected_b1", exact=True).first.wait_for()  # the year files it publishes
        page.get_by_text("release_zip", exact=True).first.wait_for()
        screenshot(page, "ui_published_b1_lineage")
        page.goto(dev.url("/assets/published_b1"))
        for shown in ("cin-statistics", "layer: published", "b1_children_in_need_2013_to_2020.csv"):
            page.get_by_text(shown).first.wait_for()  # owner, tags and description


def test_one_run_per_reporting_year_at_a_time(dev: DagsterDev) -> None:
    first, second = (dev.launch_run("__ASSET_JOB", "2020", ["census_returns"]) for _ in range(2))
    a, b = dev.wait_run(first), dev.wait_run(second)
    assert a["status"] == b["status"] == "SUCCESS"
    earlier, later = sorted((a, b), key=lambda r: r["startTime"])
    assert later["startTime"] >= earlier["endTime"], "two runs of 2020 overlapped"


def test_backfill_of_two_years_through_graphql(dev: DagsterDev) -> None:
    # as the UI's Materialize dialog launches it: the year assets and the partition names; the census has
    # no 2021, and 2021 is not part of the backfill (no asset of 2020 is an ancestor of 2021)
    backfill_id = dev.launch_backfill(_year_assets(dev), BACKFILL)
    done = dev.wait_backfill(backfill_id)
    assert done["status"] == "COMPLETED_SUCCESS", (done, dev.log_tail())
    runs: dict[str, set[str]] = {}
    for run in done["runs"]:
        assert run["status"] == "SUCCESS", run
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        runs.setdefault(tags["dagster/partition"], set()).add(run["runId"])
    assert set(runs) == set(BACKFILL)
    for partition in BACKFILL:
        assert _materialised_by(dev, _year_assets(dev), partition) <= runs[partition]
    checks = dev.all_checks()
    checked = 0
    for partition in BACKFILL:
        for (asset, check), execution in dev.latest_check_executions(checks, partition).items():
            assert execution and execution["status"] == _EXPECTED.get(check, "SUCCEEDED"), (
                asset,
                check,
                partition,
                execution,
            )
            assert execution["partition"] == partition and execution["runId"] in runs[partition]
            checked += 1
    assert checked >= len(BACKFILL) * (2 + 2 * DATA_SETS)  # validation; schema and EES names per data set


def test_materialise_a_year_from_the_ui_with_its_checks(dev: DagsterDev) -> None:
    with browser_page() as page:
        run_id = materialise_year_from_ui(page, dev, YEAR)
        run = dev.wait_run(run_id, timeout=900)
        assert run["status"] == "SUCCESS", dev.log_tail()
        show_run(page, dev, run_id)
        screenshot(page, "ui_run_2019")
        page.goto(dev.url("/assets/protected_b1?view=checks"))
        page.get_by_text("disclosure_schema").first.wait_for()
        page.get_by_text("Passed").first.wait_for()
        screenshot(page, "ui_protected_b1_checks")
    year_assets = _year_assets(dev)
    assert len(year_assets) > 2 * DATA_SETS
    # the year and everything depending on it within the year was rebuilt, with every check passing again
    assert _materialised_by(dev, year_assets, YEAR) == {run_id}
    for (asset, check), latest in dev.latest_check_executions(dev.all_checks(), YEAR).items():
        assert (latest["runId"], latest["status"]) == (run_id, _EXPECTED.get(check, "SUCCEEDED")), (
            asset,
            check,
            latest,
        )
    # and nothing of the other year: the backfill's 2020 partitions were not touched
    assert len(_materialisations(dev, "staging_children", "2020")) == 1
    assert len(_materialisations(dev, "protected_b1", "2020")) == 1
    events = dev.run_logs(run_id)
    assert any("multiprocess executor" in (e.get("message") or "") for e in events)
    user_lines = [e["message"] for e in events if e["__typename"] == "LogMessageEvent"]
    assert user_lines and all(f"[{YEAR}]" in line for line in user_lines), user_lines
    # and no child identifier anywhere in the run's log
    children = pl.read_parquet(dev.data_root / "staging" / "staging_children" / f"{YEAR}.parquet")
    identifiers = set(children["LAchildID"].to_list()) | set(children["UPN"].drop_nulls().to_list())
    words = {w for e in events for w in re.findall(r"[\w-]+", e.get("message") or "")}
    assert len(identifiers) > 100 and not words & identifiers


def test_release_shows_published_tables_and_trend_charts(dev: DagsterDev) -> None:
    run = dev.wait_run(dev.launch_run("release_job"), timeout=600)
    assert run["status"] == "SUCCESS", dev.log_tail()
    # the file name states the years published (the backfill's two); the default ees profile's names are
    # lower case
    b1 = dev.data_root / "published" / f"b1_children_in_need_{BACKFILL[0]}_to_{BACKFILL[-1]}.csv"
    assert b1.read_text().splitlines()[0].startswith("time_period,") and "at31_episodes" in b1.read_text()
    metadata = dev.graphql(
        """{ assetOrError(assetKey: {path: ["published_b1"]}) { ... on Asset { assetMaterializations(limit: 1) {
             metadataEntries { label __typename ... on MarkdownMetadataEntry { mdStr } } } } } }"""
    )["assetOrError"]["assetMaterializations"][0]["metadataEntries"]
    labels = {e["label"] for e in metadata}
    assert {
        "dagster/row_count",
        "dagster/column_schema",
        "preview",
        "trend",
        "suppressed cells (c)",
        "eesyscreener",
        "output profile",
    } <= labels
    trend = next(e["mdStr"] for e in metadata if e["label"] == "trend")
    png = base64.b64decode(trend.split("base64,", 1)[1].split(")", 1)[0])
    assert png.startswith(b"\x89PNG")
    with browser_page() as page:
        page.goto(dev.url("/assets/published_b1"))
        row = page.get_by_role("row").filter(has=page.get_by_text("trend", exact=True))
        row.get_by_text("[Show Markdown]").click()
        image = page.get_by_role("dialog").get_by_role("img", name="Headline measures over time")
        image.wait_for()
        assert image.evaluate("img => img.complete && img.naturalWidth") > 300
        screenshot(page, "ui_published_b1_trend_chart")
