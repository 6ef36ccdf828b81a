"""A broken census return in a running ``dagster dev``: the alert sensor (running by default in the daemon)
posts exactly one alert to a webhook on 127.0.0.1, naming the asset, reporting year and check with a link
to the run, and writes the same alert to the alert log under the data root."""

import json
from pathlib import Path

import pytest

from cin_assets.defs.alerts import SENSOR_NAME
from cin_assets_tests.e2e.conftest import LAS, new_data_root, new_home
from cin_assets_tests.e2e.harness import DagsterDev, wait_for
from cin_assets_tests.e2e.receiver import Receiver

pytestmark = pytest.mark.slow

YEAR = "2019"
# census -> staging -> validation: everything the validation checks need, and no more
ASSETS = [
    "census_returns",
    "staging_children",
    "staging_disabilities",
    "staging_episodes",
    "staging_assessments",
    "staging_assessment_factors",
    "staging_section47",
    "staging_cpps",
    "staging_cpp_reviews",
    "staging_cin_plans",
    "staging_headers",
    "census_read_issues",
    "census_validation",
]


def _break_one_return(root: Path) -> None:
    """An invalid GenderCurrent code in one child: one DfE validation error (rule 4180), nothing else."""
    path = root / "census" / YEAR / f"{LAS[0]}.xml"
    text = path.read_text()
    assert "<GenderCurrent>1</GenderCurrent>" in text
    path.write_text(text.replace("<GenderCurrent>1</GenderCurrent>", "<GenderCurrent>7</GenderCurrent>", 1))


def _ticks_after(dev: DagsterDev, timestamp: float) -> int:
    data = dev.graphql(
        """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { ... on Sensor {
             sensorState { status ticks(limit: 10) { timestamp status } } } } }""",
        {
            "s": {
                "repositoryLocationName": dev.location,
                "repositoryName": dev.repository,
                "sensorName": SENSOR_NAME,
            }
        },
    )["sensorOrError"]["sensorState"]
    assert data["status"] == "RUNNING", "the alert sensor must run without anyone switching it on"
    return sum(
        1 for t in data["ticks"] if t["timestamp"] > timestamp and t["status"] in ("SKIPPED", "SUCCESS")
    )


def test_each_failed_check_sends_exactly_one_alert(tmp_path: Path, census_source: Path) -> None:
    root = new_data_root(tmp_path, census_source)
    _break_one_return(root)
    with Receiver() as hook, DagsterDev(new_home(tmp_path), root, {"CIN_ALERT_WEBHOOK_URL": hook.url}) as dev:
        run_id = dev.launch_run("__ASSET_JOB", YEAR, ASSETS)
        run = dev.wait_run(run_id)  # succeeds (the check does not block) or fails (if it is made blocking)
        failed = [
            (check, e["status"])
            for check in ("no_validation_errors", "no_validation_queries")
            for e in dev.check_executions("census_validation", check, YEAR)
            if e["status"] != "SUCCEEDED"
        ]
        # the broken return fails the error check; the warning on queries fails too, because generated
        # returns raise DfE queries as real ones do (8899Q, 8825Q): one alert for each failed check
        assert failed == [("no_validation_errors", "FAILED"), ("no_validation_queries", "FAILED")]

        received = wait_for("both alerts at the webhook", lambda: len(hook.received()) >= 2, 180, 2)
        assert received
        alerted = run["endTime"]
        wait_for("two more sensor ticks", lambda: _ticks_after(dev, alerted) >= 2, 120, 3)
        assert len(hook.received()) == 2, "two failed checks, two alerts, never a repeat"
        (body,) = [b for b in hook.received() if "no_validation_errors" in b["text"]]

        assert body["text"] == (
            f"CIN check failed (error): no_validation_errors on census_validation [{YEAR}]: "
            f"{dev.url(f'/runs/{run_id}')}"
        )
        fields = [f["text"] for block in body["blocks"] if "fields" in block for f in block["fields"]]
        assert {
            "*Asset*\ncensus_validation",
            f"*Reporting year*\n{YEAR}",
            "*Check*\nno_validation_errors",
        } <= set(fields)
        assert f"*la_codes*\n{LAS[0]}" in fields

        lines = (root / "alerts" / "alerts.jsonl").read_text().splitlines()
        (logged,) = [e for e in map(json.loads, lines) if e["check"] == "no_validation_errors"]
        assert (logged["asset"], logged["partition"], logged["check"], logged["run_id"]) == (
            "census_validation",
            YEAR,
            "no_validation_errors",
            run_id,
        )
        assert logged["delivery"] == "slack webhook: HTTP 200"
