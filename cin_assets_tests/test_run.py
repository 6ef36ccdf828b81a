"""`make run` (``cin-run``) end to end on a small census: every year's run, the release, the look-back."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml

from cin_assets import run
from cin_assets.publish import release_store, screener
from cin_assets.synth import generate_census
from cin_assets_tests.reference_subset import expect_only

LAS = ["841", "202", "203", "909"]


def test_make_run_materialises_each_year_two_at_a_time_then_the_release(tmp_path: Path, monkeypatch) -> None:
    generate_census(tmp_path / "census", [2019, 2020], scale=0.05, seed=3, las=LAS, workers=1)
    expect_only(tmp_path, LAS)  # the inventory expects the generated LAs only
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("CIN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("PROFILE", raising=False)
    monkeypatch.delenv("CIN_PROFILE", raising=False)
    monkeypatch.delenv("CIN_SUPPRESSION", raising=False)

    # a fresh interpreter, as `make run` starts one (the data root reaches the runs through $CIN_DATA_DIR)
    done = subprocess.run(
        [sys.executable, "-m", "cin_assets.run", "--years", "2019-2020", "--parallel", "2"],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (
        "2019: ok" in done.stdout
        and "2020: ok" in done.stdout
        and "release (ees profile, dfe suppression): published" in done.stdout
    )

    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert sorted(r.tags.get("dagster/partition", "release") for r in runs) == ["2019", "2020", "release"]
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    # 2020 ran beside 2019 and read 2019's returns for its look-back: its re-referrals are counted; with no
    # 2018 census, 2019's are not available
    c1 = tmp_path / "staging" / "measure_c1"
    england = pl.col("geographic_level") == "National"
    assert pl.read_parquet(c1 / "2019.parquet").filter(england)["Re_referrals"].is_null().all()
    assert pl.read_parquet(c1 / "2020.parquet").filter(england)["Re_referrals"].item() > 0
    published = {p.name for p in (tmp_path / "published").iterdir()}
    assert len([n for n in published if n.endswith(".meta.csv")]) == 28
    assert {"data_guidance.md", "children_in_need_2020_all_data.zip", "manifest.csv"} <= published
    # DfE's suppression rule by default, stated in the guidance
    guidance = (tmp_path / "published" / "data_guidance.md").read_text()
    assert "could otherwise be worked out exactly from the published figures" in guidance
    # the default ees profile: every pair passes the EES screener port with no FAIL
    for meta in sorted(n for n in published if n.endswith(".meta.csv")):
        data = meta.removesuffix(".meta.csv") + ".csv"
        results = screener.screen_files(tmp_path / "published" / data, tmp_path / "published" / meta)
        assert not [r.check for r in results if r.result == "FAIL"], data
    assert "c1_referrals_and_rereferrals_2019_to_2020.csv" in published
    # the output says where the current release is: the link and the release folder it points at
    current = (tmp_path / "published").resolve()
    assert f"current release: {tmp_path / 'published'} -> {current}" in done.stdout
    assert current.parent == tmp_path / "releases" and release_store.verify(current) == []
    # every check green but the warning on DfE queries, which generated returns raise as real ones do
    # (8899Q, 8825Q: cin_assets_tests/validation/test_synthetic.py)
    lines = [line.strip() for line in done.stdout.splitlines()]
    failed = {line for line in lines if line.endswith(("(WARN)", "(ERROR)"))}
    assert failed <= {"census_validation:no_validation_queries (WARN)"}, done.stdout
    assert all("failed check" not in line or "ok, 1 failed check(s)" in line for line in lines), done.stdout


def test_failed_checks_are_printed_with_their_severity() -> None:
    @dg.asset(
        check_specs=[
            dg.AssetCheckSpec("complete", asset="returns"),
            dg.AssetCheckSpec("tidy", asset="returns"),
        ]
    )
    def returns():
        yield dg.Output(1)
        yield dg.AssetCheckResult(check_name="complete", passed=False)
        yield dg.AssetCheckResult(check_name="tidy", passed=False, severity=dg.AssetCheckSeverity.WARN)

    result = dg.materialize([returns])
    checks = run.failed_checks(result)
    assert checks == ["returns:complete (ERROR)", "returns:tidy (WARN)"]
    assert run._outcome(result.success, checks) == "ok, 2 failed check(s)"  # never a bare "ok"
    assert run._outcome(True, []) == "ok" and run._outcome(False, []) == "FAILED"


def test_why_a_step_failed_is_printed() -> None:
    """cin-run prints why the release failed (e.g. a carrying year older than its source year's rerun)."""

    @dg.asset
    def release():
        raise dg.Failure(description="publication blocked: 2021 carries Hackney (204) from 2020, ...")

    @dg.asset
    def other():
        raise ValueError("disk full")

    result = dg.materialize([release, other], raise_on_error=False)
    assert run.step_failures(result) == [
        "other: ValueError: disk full",
        "release: publication blocked: 2021 carries Hackney (204) from 2020, ...",
    ]


def _alive(processes: list) -> list:
    """The processes still running (a zombie has ended: only its exit status is left to collect)."""
    import psutil

    def running(p) -> bool:
        try:
            return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    return [p for p in processes if running(p)]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_stopping_cin_run_stops_every_worker_and_leaves_no_run_started(
    tmp_path: Path, monkeypatch, stop
) -> None:
    """SIGTERM (or Ctrl-C): cin-run ends its runs and exits; SIGKILL: the workers notice and end theirs."""
    import psutil

    generate_census(tmp_path / "census", [2019, 2020], scale=0.05, seed=3, las=LAS, workers=1)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("CIN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    proc = subprocess.Popen(
        [sys.executable, "-m", "cin_assets.run", "--years", "2019-2020", "--parallel", "2"],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    unfinished = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
    try:
        with dg.DagsterInstance.get() as instance:
            deadline = time.monotonic() + 300
            while not instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
                assert proc.poll() is None and time.monotonic() < deadline, "no run started"
                time.sleep(0.5)
            time.sleep(3)  # well inside the years' runs
            family = psutil.Process(proc.pid).children(recursive=True)
            assert len(family) >= 3  # two year workers (and what they started) and the manager
            proc.send_signal(stop)
            start = time.monotonic()
            _, err = proc.communicate(timeout=15)
            assert proc.returncode == (-stop if stop == signal.SIGKILL else 128 + stop), err[-2000:]
            alive = _alive(family)
            while alive and time.monotonic() - start < 10:
                time.sleep(0.2)
                alive = _alive(family)
            assert alive == [], [p.pid for p in alive]
            if stop == signal.SIGKILL:  # a worker killed mid-step leaves its run for the next cin-run to fail
                run.fail_orphaned_runs(instance)
            runs = instance.get_runs()
            assert runs and not [r for r in runs if r.status in unfinished]
            assert {r.status for r in runs} <= {dg.DagsterRunStatus.CANCELED, dg.DagsterRunStatus.FAILURE}
    finally:
        if proc.poll() is None:
            proc.kill()


def test_runs_of_a_killed_cin_run_are_failed_by_the_next_one() -> None:
    from dagster._core.storage.dagster_run import DagsterRun

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    with dg.DagsterInstance.ephemeral() as instance:
        tags = {**run._run_tags("s1"), run.PID_TAG: dead.stdout.strip()}
        orphan = DagsterRun(
            job_name="reporting_year_job", run_id="orphan", status=dg.DagsterRunStatus.STARTED, tags=tags
        )
        alive = DagsterRun(
            job_name="reporting_year_job",
            run_id="alive",
            status=dg.DagsterRunStatus.STARTED,
            tags=run._run_tags("s2"),
        )
        instance.add_run(orphan)
        instance.add_run(alive)
        assert run.fail_orphaned_runs(instance) == 1
        assert instance.get_run_by_id("orphan").status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id("alive").status == dg.DagsterRunStatus.STARTED  # this process is alive


def test_the_instance_monitors_runs() -> None:
    root = Path(__file__).resolve().parents[1]
    for config in (root / "dagster.yaml", root / "deploy" / "dagster.postgres.yaml"):
        monitoring = yaml.safe_load(config.read_text())["run_monitoring"]
        assert monitoring["enabled"] is True and monitoring["max_runtime_seconds"] > 0


def test_a_year_carrying_an_la_forward_waits_for_the_previous_year(tmp_path: Path) -> None:
    (tmp_path / "exceptions.csv").write_text(
        "reporting_year,la_code,action,note\n"
        "2021,204,carry_forward,no return\n"
        "2022,204,carry_forward,no return\n"
        "2023,202,not_available,no return\n"
    )
    assert run.carrying_years(tmp_path, [2020, 2021, 2022, 2023]) == {2021, 2022}
    assert run.carrying_years(tmp_path, [2021, 2023]) == set()  # 2020 is not in this make run
    assert run.carrying_years(tmp_path / "none", [2020, 2021]) == set()  # no declarations
