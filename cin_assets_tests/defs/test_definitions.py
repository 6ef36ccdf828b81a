"""The code location as a user meets it in the UI: every asset documented and grouped as the pipeline reads,
no child-level value in any metadata, run logs naming their reporting year, one-line reporting years, and
the instance's run queue holding one run per reporting year."""

import re
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from dagster._core.instance.ref import InstanceRef

from cin_assets.census import calendar
from cin_assets.definitions import defs
from cin_assets.defs import census, lookback, validation
from cin_assets.defs.partitions import reporting_year_partitions
from cin_assets.defs.resources import default_resources
from cin_assets.synth import generate_census
from cin_assets_tests.reference_subset import expect_only

warnings.filterwarnings("ignore", category=dg.PreviewWarning)

PROJECT = Path(__file__).resolve().parents[2]
# The lineage left to right: every dependency points forward in this order (or stays inside its group).
GROUP_ORDER = ("census", "staging", "validation", "measures", "protected", "published")
YEAR = 2019
LAS = ("845", "873")
# Child-level columns whose values must never reach metadata (identifiers and dates of a child).
CHILD_VALUE_COLUMNS = {
    "children": (
        "LAchildID",
        "UPN",
        "FormerUPN",
        "PersonBirthDate",
        "ExpectedPersonBirthDate",
        "PersonDeathDate",
    ),
    "episodes": ("CINreferralDate", "CINclosureDate"),
    "cpps": ("CPPstartDate", "CPPendDate"),
}

# sorted: pytest-xdist workers must collect the same tests in the same order
SPECS = sorted(defs.resolve_all_asset_specs(), key=lambda s: s.key.to_user_string())


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key.to_user_string())
def test_every_asset_is_documented_owned_kinded_tagged_and_grouped(spec: dg.AssetSpec) -> None:
    assert spec.description and len(spec.description) > 40, "a description a statistician can act on"
    assert spec.owners == ["team:cin-statistics"]
    assert spec.kinds, "kinds show the storage/technology badge in the graph"
    assert {"layer", "domain"} <= set(spec.tags), f"user tags: {spec.tags}"
    assert spec.group_name in GROUP_ORDER, f"group {spec.group_name!r} is not a pipeline stage"


def test_groups_read_as_the_pipeline_does() -> None:
    group = {spec.key: spec.group_name for spec in SPECS}
    assert set(group.values()) == set(GROUP_ORDER)
    backwards = [
        f"{dep.asset_key.to_user_string()} ({group[dep.asset_key]}) -> {spec.key.to_user_string()} ({spec.group_name})"
        for spec in SPECS
        for dep in spec.deps
        if GROUP_ORDER.index(group[dep.asset_key]) > GROUP_ORDER.index(spec.group_name)
    ]
    assert not backwards
    # the published files are the end of the line, and each comes from its protected year files
    graph = defs.resolve_asset_graph()
    published = [s.key for s in SPECS if s.group_name == "published"]
    assert all(not graph.get(k).child_keys - set(published) for k in published)
    assert dg.AssetKey("protected_b1") in graph.get(dg.AssetKey("published_b1")).parent_keys


def test_every_year_asset_and_the_year_job_share_the_reporting_year_partitions() -> None:
    assert reporting_year_partitions.get_partition_keys() == [str(y) for y in calendar.REPORTING_YEARS]
    graph = defs.resolve_asset_graph()
    partitioned = {k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None}
    assert all(graph.get(k).partitions_def == reporting_year_partitions for k in partitioned)
    year_job = defs.resolve_job_def("reporting_year_job")
    assert year_job.partitions_def == reporting_year_partitions
    # every partitioned asset a run materialises (census_files, the returns on disk, is external)
    assert set(year_job.asset_layer.selected_asset_keys) == partitioned & graph.materializable_asset_keys
    assert graph.external_asset_keys == {census.CENSUS_FILES}
    release = set(defs.resolve_job_def("release_job").asset_layer.selected_asset_keys)
    assert release == set(graph.materializable_asset_keys) - partitioned
    assert all(check.asset_key in partitioned | release for check in graph.asset_check_keys)


def _metadata_text(value: object) -> str:
    """Everything a metadata value can show in the UI, as text (schemas, tables and markdown included)."""
    return repr(value.value if isinstance(value, dg.MetadataValue) else value)


def _child_values(staging: Path) -> set[str]:
    values: set[str] = set()
    for table, columns in CHILD_VALUE_COLUMNS.items():
        frame = pl.read_parquet(staging / f"staging_{table}" / f"{YEAR}.parquet")
        for column in columns:
            values |= {str(v) for v in frame[column].drop_nulls().unique().to_list()}
    return values


@pytest.fixture(scope="module")
def year_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dg.ExecuteInProcessResult, list]:
    """Census, staging, validation and look-back assets of one year, with one return broken so the
    validation check fails and its failure metadata is exercised too."""
    root = tmp_path_factory.mktemp("data")
    generate_census(root / "census", [YEAR], scale=0.05, seed=3, las=LAS, workers=1)
    broken = root / "census" / str(YEAR) / f"{LAS[0]}.xml"
    broken.write_text(
        broken.read_text().replace("<GenderCurrent>1</GenderCurrent>", "<GenderCurrent>7</GenderCurrent>", 1)
    )
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [
                census.census_returns,
                census.census_staging,
                validation.census_validation,
                *lookback.LOOKBACK_ASSETS,
            ],
            partition_key=str(YEAR),
            instance=instance,
            resources={**default_resources(root), "validation_policy": validation.ValidationPolicy()},
        )
        logs = [entry for entry in instance.all_logs(result.run_id) if not entry.is_dagster_event]
    return root, result, logs


def test_no_child_level_value_in_any_metadata(year_run) -> None:
    root, result, _ = year_run
    assert result.success
    child_values = _child_values(root / "staging")
    assert len(child_values) > 100
    shown = [
        (event.asset_key.to_user_string(), label, _metadata_text(value))
        for event in result.get_asset_materialization_events()
        for label, value in event.materialization.metadata.items()
    ]
    shown += [
        (f"{check.asset_key.to_user_string()}:{check.check_name}", label, _metadata_text(value))
        for check in result.get_asset_check_evaluations()
        for label, value in check.metadata.items()
    ]
    assert {a for a, _, _ in shown} >= {"staging_children", "staging_episodes", "census_validation"}
    tokens = {t for _, _, text in shown for t in re.findall(r"[\w-]+", text)}
    leaked = sorted(tokens & child_values)
    assert not leaked, f"child-level values in metadata: {leaked[:10]}"


def test_the_broken_return_fails_the_error_check_with_counts_only(year_run) -> None:
    _, result, _ = year_run
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    errors = checks[validation.ERRORS_CHECK]
    assert not errors.passed and errors.partition == str(YEAR)
    assert errors.metadata["la_codes"].value == LAS[0]


def test_every_log_line_of_a_year_run_names_the_year(year_run) -> None:
    _, _, logs = year_run
    assert logs
    unnamed = [entry.user_message for entry in logs if f"[{YEAR}]" not in entry.user_message]
    assert not unnamed
    # problems are located by LA: the missing-returns warning lists the LA codes
    (missing,) = [e.user_message for e in logs if "no return from" in e.user_message]
    assert re.search(r"\b201, 202\b", missing) and "845" not in missing.split(":")[-1]


def test_the_instance_queue_holds_one_run_per_reporting_year(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HOST", "PORT", "DB", "USER", "PASSWORD"):
        monkeypatch.setenv(f"DAGSTER_PG_{name}", "5432" if name == "PORT" else "x")
    for config in ("dagster.yaml", "deploy/dagster.postgres.yaml"):
        home = tmp_path / config.replace("/", "_")
        home.mkdir()
        shutil.copy(PROJECT / config, home / "dagster.yaml")
        ref = InstanceRef.from_dir(str(home))  # validates the file against 1.13's schema
        assert ref.run_coordinator_data.class_name == "QueuedRunCoordinator"
        if config == "dagster.yaml":
            with dg.DagsterInstance.from_ref(ref) as instance:
                queue = instance.get_concurrency_config().run_queue_config
            assert queue.max_concurrent_runs == 2
            assert queue.tag_concurrency_limits == [
                {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
            ]


ONE_LINE_2021 = textwrap.dedent(
    """
    import re, sys, warnings
    from pathlib import Path
    warnings.filterwarnings("ignore")
    import cin_assets.census.calendar as calendar
    calendar.LAST_YEAR = 2021  # the one line: LAST_YEAR = 2021 in cin_assets/census/calendar.py
    calendar.REPORTING_YEARS = tuple(range(calendar.FIRST_YEAR, calendar.LAST_YEAR + 1))
    import dagster as dg
    import polars as pl
    from cin_assets.definitions import defs
    from cin_assets.defs import census, lookback, validation
    from cin_assets.defs.resources import default_resources
    root = Path(sys.argv[1])
    print("partitions", defs.resolve_job_def("reporting_year_job").partitions_def.get_partition_keys()[-2:])
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [census.census_returns, census.census_staging, validation.census_validation, *lookback.LOOKBACK_ASSETS],
            partition_key="2021", instance=instance,
            resources={**default_resources(root), "validation_policy": validation.ValidationPolicy()},
        )
    children = pl.read_parquet(root / "staging" / "staging_children" / "2021.parquet")
    print("success", result.success, "children", children.height, "years", sorted(set(children["reporting_year"])))
    """
)


def _roll_forward(xml: str) -> str:
    """A 2020 return as if collected a year later: every date plus one year (29 February -> 28th)."""

    def shift(match: re.Match[str]) -> str:
        month, day = match[2], match[3]
        return f"{int(match[1]) + 1}-{month}-{'28' if (month, day) == ('02', '29') else day}"

    return re.sub(r"(\d{4})-(\d{2})-(\d{2})", shift, xml).replace("<Year>2020</Year>", "<Year>2021</Year>")


@pytest.mark.slow
def test_adding_reporting_year_2021_is_one_line_plus_its_returns(tmp_path: Path) -> None:
    # 2021's look-back inventories the 2020 returns: the reference expects only the generated LAs
    expect_only(tmp_path, LAS)
    generate_census(tmp_path / "census", [2020], scale=0.05, seed=3, las=LAS, workers=1)
    (tmp_path / "census" / "2021").mkdir()
    for path in (tmp_path / "census" / "2020").glob("*.xml"):
        (tmp_path / "census" / "2021" / path.name).write_text(_roll_forward(path.read_text()))
    result = subprocess.run(
        [sys.executable, "-c", ONE_LINE_2021, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "partitions ['2020', '2021']" in result.stdout
    found = re.search(r"success True children (\d+) years \[2021\]", result.stdout)
    assert found and int(found[1]) > 100, result.stdout
