"""The failure-alert sensor against a real (temporary) instance: what it sends, once, and where."""

import json
import warnings
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from cin_assets.defs import alerts
from cin_assets.defs.alerts import AlertNotifier, cin_failure_alerts
from cin_assets.defs.resources import CinDataRoot
from cin_assets_tests.e2e.receiver import Receiver

warnings.filterwarnings("ignore", category=dg.PreviewWarning)

YEARS = dg.StaticPartitionsDefinition(["2019", "2020"])


@dg.asset(
    partitions_def=YEARS,
    check_specs=[
        dg.AssetCheckSpec("totals_add_up", asset="frame", blocking=True, partitions_def=YEARS),
        dg.AssetCheckSpec("no_queries", asset="frame", partitions_def=YEARS),
    ],
)
def frame(context: dg.AssetExecutionContext):
    """Fails its blocking error check in 2019 and its warning check in every year."""
    yield dg.Output(1)
    yield dg.AssetCheckResult(
        check_name="totals_add_up",
        passed=context.partition_key != "2019",
        metadata={"failures": 3, "table": dg.MetadataValue.md("| LAchildID |\n|---|\n| C1 |")},
    )
    yield dg.AssetCheckResult(check_name="no_queries", passed=False, severity=dg.AssetCheckSeverity.WARN)


@dg.asset(partitions_def=YEARS, deps=[frame])
def summary(context: dg.AssetExecutionContext) -> None:
    if context.partition_key == "2020":
        raise ValueError("cannot summarise 2020\nsecond line with details")


def _context(instance: dg.DagsterInstance, root: Path, cursor: str | None = None, **notifier: object):
    repository = dg.Definitions(assets=[frame, summary], sensors=[cin_failure_alerts]).get_repository_def()
    return dg.build_sensor_context(
        instance=instance,
        repository_def=repository,
        cursor=cursor,
        resources={"data_root": CinDataRoot(root=str(root)), "alert_notifier": AlertNotifier(**notifier)},
    )


def _materialise(instance: dg.DagsterInstance, year: str) -> dg.ExecuteInProcessResult:
    return dg.materialize([frame, summary], partition_key=year, instance=instance, raise_on_error=False)


def _log(root: Path) -> list[dict]:
    path = root / "alerts" / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_one_alert_per_failed_check_and_per_otherwise_failed_step(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        first, second = _materialise(instance, "2019"), _materialise(instance, "2020")
        assert not first.success and not second.success
        # 2019's blocking error stopped what is downstream of it; 2020's failed warning blocked nothing
        assert {e.step_key for e in first.all_events if e.is_step_start} == {"frame"}
        assert {e.step_key for e in second.all_events if e.is_step_start} == {"frame", "summary"}
        context = _context(instance, tmp_path)
        assert cin_failure_alerts(context) is None
        sent = {(a["kind"], a["asset"], a["partition"], a["check"], a["severity"]) for a in _log(tmp_path)}
        assert sent == {
            ("check_failed", "frame", "2019", "totals_add_up", "ERROR"),
            ("check_failed", "frame", "2019", "no_queries", "WARN"),
            ("check_failed", "frame", "2020", "no_queries", "WARN"),
            (
                "run_failed",
                "summary",
                "2020",
                "",
                "ERROR",
            ),  # 2019's run failure is its blocking check's alert
        }
        by_check = {a["check"] + a["partition"]: a for a in _log(tmp_path)}
        blocking = by_check["totals_add_up2019"]
        assert blocking["blocking"] is True
        assert blocking["details"] == {"failures": "3"}  # the markdown table never leaves the instance
        assert blocking["run_id"] == first.run_id
        assert blocking["run_url"] == f"http://127.0.0.1:3000/runs/{first.run_id}"
        assert by_check["2020"]["message"] == "ValueError: cannot summarise 2020"
        assert by_check["2020"]["delivery"] == "log only (no webhook configured)"

        # the next tick finds nothing new; a reset cursor does not repeat anything either
        again = _context(instance, tmp_path, cursor=context.cursor)
        assert isinstance(cin_failure_alerts(again), dg.SkipReason)
        assert again.cursor == context.cursor
        assert isinstance(cin_failure_alerts(_context(instance, tmp_path)), dg.SkipReason)
        assert len(_log(tmp_path)) == 4


def test_successful_runs_with_passing_checks_raise_nothing(tmp_path: Path) -> None:
    @dg.asset(check_specs=[dg.AssetCheckSpec("fine", asset="clean")])
    def clean():
        yield dg.Output(1)
        yield dg.AssetCheckResult(check_name="fine", passed=True)

    with dg.instance_for_test() as instance:
        assert dg.materialize([clean], instance=instance).success
        assert isinstance(cin_failure_alerts(_context(instance, tmp_path)), dg.SkipReason)
    assert _log(tmp_path) == []


def test_a_run_that_fails_before_any_step_is_reported(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        run = create_run_for_test(instance, job_name="reporting_year_job", tags={"dagster/partition": "2019"})
        instance.report_run_failed(run, "code location unreachable: could not load cin_assets")
        cin_failure_alerts(_context(instance, tmp_path))
    (alert,) = _log(tmp_path)
    assert (alert["kind"], alert["asset"], alert["partition"]) == ("run_failed", "(no step ran)", "2019")
    assert "could not load cin_assets" in alert["message"]


def test_first_tick_does_not_replay_old_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alerts, "_FIRST_TICK_LOOKBACK_SECONDS", -60)  # everything so far counts as old
    with dg.instance_for_test() as instance:
        _materialise(instance, "2019")
        first = _context(instance, tmp_path)
        assert isinstance(cin_failure_alerts(first), dg.SkipReason)
        assert _log(tmp_path) == []
        _materialise(instance, "2020")
        cin_failure_alerts(_context(instance, tmp_path, cursor=first.cursor))
    assert {(a["partition"], a["kind"]) for a in _log(tmp_path)} == {
        ("2020", "check_failed"),
        ("2020", "run_failed"),
    }


@pytest.mark.parametrize("fmt", ["slack", "teams"])
def test_webhook_receives_each_alert_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    with Receiver() as hook, dg.instance_for_test() as instance:
        monkeypatch.setenv("CIN_TEST_HOOK", hook.url)
        _materialise(instance, "2019")
        context = _context(instance, tmp_path, webhook_url_env="CIN_TEST_HOOK", webhook_format=fmt)
        cin_failure_alerts(context)
        cin_failure_alerts(
            _context(instance, tmp_path, context.cursor, webhook_url_env="CIN_TEST_HOOK", webhook_format=fmt)
        )
        bodies = hook.received()
    assert len(bodies) == 2
    titles = {
        (
            b["blocks"][0]["text"]["text"]
            if fmt == "slack"
            else b["attachments"][0]["content"]["body"][0]["text"]
        )
        for b in bodies
    }
    assert titles == {
        "CIN check failed (error): totals_add_up on frame [2019]",
        "CIN check failed (warning): no_queries on frame [2019]",
    }
    assert {a["delivery"] for a in _log(tmp_path)} == {f"{fmt} webhook: HTTP 200"}
    assert hook.url not in (tmp_path / "alerts" / "alerts.jsonl").read_text()  # the URL is a secret


def test_a_failing_webhook_is_retried_then_logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Receiver(status=503) as hook, dg.instance_for_test() as instance:
        monkeypatch.setenv("CIN_TEST_HOOK", hook.url)
        monkeypatch.setattr(alerts.time, "sleep", lambda seconds: None)
        _materialise(instance, "2020")
        cin_failure_alerts(_context(instance, tmp_path, webhook_url_env="CIN_TEST_HOOK", attempts=3))
        attempts = len(hook.received())
    assert attempts == 3 * 2  # two alerts (warning check, failed step), three attempts each
    assert {a["delivery"] for a in _log(tmp_path)} == {"slack webhook failed: HTTP 503"}


def test_the_project_sensor_runs_by_default_and_has_its_notifier() -> None:
    from cin_assets.definitions import defs

    sensor = defs.resolve_sensor_def(alerts.SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.required_resource_keys == {"data_root", "alert_notifier"}
    notifier = defs.resources["alert_notifier"]
    assert isinstance(notifier, AlertNotifier)
    assert notifier.webhook_url_env == "CIN_ALERT_WEBHOOK_URL"


def test_notifier_reads_format_and_ui_address_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIN_ALERT_WEBHOOK_FORMAT", "teams")
    monkeypatch.setenv("CIN_DAGSTER_URL", "https://dagster.stats.example/")
    notifier = AlertNotifier()  # as the code location configures it: the environment is read when sending
    assert notifier.payload_format == "teams"
    assert notifier.run_url("r1") == "https://dagster.stats.example/runs/r1"
