"""The team deployment: the same code and the same UI materialisation of one reporting year, with the
instance of deploy/dagster.postgres.yaml on a real PostgreSQL server and the multiprocess executor."""

from pathlib import Path

import pytest

from cin_assets_tests.e2e.conftest import new_data_root, new_home
from cin_assets_tests.e2e.harness import PROJECT, DagsterDev
from cin_assets_tests.e2e.postgres import Postgres
from cin_assets_tests.e2e.ui import browser_page, materialise_year_from_ui, screenshot, show_run

pytestmark = pytest.mark.slow

YEAR = "2019"


def test_materialise_a_year_from_the_ui_on_postgresql(
    tmp_path: Path, census_source: Path, postgres: Postgres
) -> None:
    home = new_home(tmp_path, (PROJECT / "deploy" / "dagster.postgres.yaml").read_text())
    with (
        DagsterDev(home, new_data_root(tmp_path, census_source), postgres.env()) as dev,
        browser_page() as page,
    ):
        info = dev.graphql("{ instance { info } }")["instance"]["info"]
        assert "PostgresRunStorage" in info and "PostgresEventLogStorage" in info
        run_id = materialise_year_from_ui(page, dev, YEAR)
        run = dev.wait_run(run_id, timeout=900)
        assert run["status"] == "SUCCESS", dev.log_tail()
        show_run(page, dev, run_id)
        screenshot(page, "ui_run_2019_postgres")
        events = dev.run_logs(run_id)
        assert any("multiprocess executor" in (e.get("message") or "") for e in events)
        (latest, *_) = dev.check_executions("disclosure_report", "disclosure_lp_audit", YEAR)
        assert (latest["runId"], latest["status"]) == (run_id, "SUCCEEDED")
    assert not (home / "history").exists(), "runs went to PostgreSQL, not to SQLite files"
