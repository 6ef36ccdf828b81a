"""`make run` (``cin-run``) end to end on a small census: every year's run, the release, the look-back order."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import polars as pl

from cin_assets.publish import screener
from cin_assets.synth import generate_census

LAS = ["841", "202", "203", "909"]


def test_make_run_materialises_each_year_two_at_a_time_then_the_release(tmp_path: Path, monkeypatch) -> None:
    generate_census(tmp_path / "census", [2019, 2020], scale=0.05, seed=3, las=LAS, workers=1)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("CIN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("PROFILE", raising=False)
    monkeypatch.delenv("CIN_PROFILE", raising=False)

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
        and "release (ees profile): published" in done.stdout
    )

    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert sorted(r.tags.get("dagster/partition", "release") for r in runs) == ["2019", "2020", "release"]
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    # 2020 ran beside 2019 yet read 2019's look-back: its re-referrals are counted, 2019's are not available
    c1 = tmp_path / "staging" / "measure_c1"
    england = pl.col("geographic_level") == "National"
    assert pl.read_parquet(c1 / "2019.parquet").filter(england)["Re_referrals"].is_null().all()
    assert pl.read_parquet(c1 / "2020.parquet").filter(england)["Re_referrals"].item() > 0
    published = {p.name for p in (tmp_path / "published").iterdir()}
    assert len([n for n in published if n.endswith(".meta.csv")]) == 28
    assert {"data_guidance.md", "children_in_need_2020_all_data.zip"} <= published
    # the default ees profile: every pair passes the EES screener port with no FAIL
    for meta in sorted(n for n in published if n.endswith(".meta.csv")):
        data = meta.removesuffix(".meta.csv") + ".csv"
        results = screener.screen_files(tmp_path / "published" / data, tmp_path / "published" / meta)
        assert not [r.check for r in results if r.result == "FAIL"], data
    assert "c1_referrals_and_rereferrals_2019_to_2020.csv" in published
