"""Alerts on failed asset checks and failed runs: a sensor and the notifier resource it sends through.

Open-source Dagster has no alert policies, and a failed warning-level (or non-blocking) check never fails its
run, so run-failure sensors alone would miss them. The ``cin_failure_alerts`` sensor therefore reads every
run that finished since its cursor (success or failure, in storage order) and raises one alert per failed
check evaluation in it, plus one per step that failed for another reason (a failed blocking check already
has its own alert). The cursor holds the last run-status event seen; the alert log doubles as a guard, so a
reset cursor never repeats an alert. Alerts always go to ``<data root>/alerts/alerts.jsonl`` and, when
``$CIN_ALERT_WEBHOOK_URL`` is set, to that Slack- or Teams-compatible webhook.

(No `from __future__ import annotations` in defs modules: Dagster reads the resource annotations at run time.)
"""

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import dagster as dg
from pydantic import Field

from cin_assets.alerts import WEBHOOK_FORMATS, Alert, details_from, first_line, log_line, webhook_payload
from cin_assets.defs.resources import CinDataRoot

if TYPE_CHECKING:
    from dagster_shared.error import SerializableErrorInfo

SENSOR_NAME = "cin_failure_alerts"
ALERT_LOG = "alerts.jsonl"
# Runs examined per tick and per outcome; a longer backlog is worked through on the next ticks.
_RUNS_PER_TICK = 50
# On its very first tick the sensor looks back this far, so a new instance is not flooded with old failures.
_FIRST_TICK_LOOKBACK_SECONDS = 24 * 3600
_RunOutcome = Literal[dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE]
_OUTCOMES: dict[str, _RunOutcome] = {
    "success": dg.DagsterEventType.RUN_SUCCESS,
    "failure": dg.DagsterEventType.RUN_FAILURE,
}
_SHORT_METADATA = (dg.IntMetadataValue, dg.FloatMetadataValue, dg.BoolMetadataValue, dg.TextMetadataValue)
_CHECK_FAILED_ERROR = "DagsterAssetCheckFailedError"


class AlertNotifier(dg.ConfigurableResource):
    """Delivers alerts: always appended to the alert log, and posted to a webhook when one is configured.

    The webhook URL is a secret (a Slack or Teams URL embeds its token), so the resource only names the
    environment variable holding it and reads it when sending; the UI never shows the URL."""

    webhook_url_env: str = Field(
        default="CIN_ALERT_WEBHOOK_URL",
        description="Environment variable holding the webhook URL (unset: log only).",
    )
    webhook_format: str = Field(
        default="",
        description="Payload format, slack or teams (empty: $CIN_ALERT_WEBHOOK_FORMAT when sending, else slack).",
    )
    dagster_url: str = Field(
        default="",
        description="Base URL of the Dagster UI, for the links to runs (empty: $CIN_DAGSTER_URL when "
        "sending, else http://127.0.0.1:3000).",
    )
    timeout_seconds: float = 5.0
    attempts: int = 3

    @property
    def payload_format(self) -> str:
        """The configured format, else the environment's when sending (never read at import)."""
        return self.webhook_format or os.environ.get("CIN_ALERT_WEBHOOK_FORMAT", "slack")

    def run_url(self, run_id: str) -> str:
        base = self.dagster_url or os.environ.get("CIN_DAGSTER_URL", "http://127.0.0.1:3000")
        return f"{base.rstrip('/')}/runs/{run_id}"

    def send(self, alert: Alert, log_path: Path) -> str:
        """Post to the webhook (if any), then append the alert and how delivery went to the alert log."""
        delivery = self._post(alert)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("a", encoding="utf-8") as fh:
            fh.write(log_line(alert, delivery) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return delivery

    def _post(self, alert: Alert) -> str:
        url = os.environ.get(self.webhook_url_env, "").strip()
        if not url:
            return "log only (no webhook configured)"
        fmt = self.payload_format
        if fmt not in WEBHOOK_FORMATS:
            return f"webhook not sent: unknown format {fmt!r}"
        body = json.dumps(webhook_payload(alert, fmt)).encode()
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        problem = ""
        for attempt in range(1, self.attempts + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                    return f"{fmt} webhook: HTTP {response.status}"
            except urllib.error.HTTPError as exc:  # the receiver answered: retrying a 4xx will not help
                problem = f"HTTP {exc.code}"
                if exc.code < 500:
                    break
            except OSError as exc:  # refused, timed out, DNS: the URL itself stays out of the log
                problem = type(exc).__name__
            if attempt < self.attempts:
                time.sleep(attempt)
        return f"{fmt} webhook failed: {problem}"


def logged_keys(log_path: Path) -> set[str]:
    """Keys of the alerts already in the log (a line that does not parse is skipped, never fatal)."""
    if not log_path.exists():
        return set()
    keys: set[str] = set()
    for line in log_path.read_text(encoding="utf-8").splitlines():
        try:
            keys.add(json.loads(line)["key"])
        except (ValueError, KeyError, TypeError):
            continue
    return keys


def _partition(run: dg.DagsterRun) -> str:
    tags = run.tags
    if "dagster/partition" in tags:
        return tags["dagster/partition"]
    start, end = (
        tags.get("dagster/asset_partition_range_start"),
        tags.get("dagster/asset_partition_range_end"),
    )
    return f"{start}...{end}" if start and end else ""


def _step_assets(repository: dg.RepositoryDefinition) -> dict[str, tuple[str, ...]]:
    """Step key (the op's name) to the asset keys it materialises."""
    return {
        ad.node_def.name: tuple(sorted(k.to_user_string() for k in ad.keys))
        for ad in repository.asset_graph.assets_defs
        if ad.is_executable
    }


def run_alerts(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    repository: dg.RepositoryDefinition,
    notifier: AlertNotifier,
) -> Iterator[Alert]:
    """The alerts one finished run deserves: each failed check, and each step that failed otherwise."""
    partition = _partition(run)
    url = notifier.run_url(run.run_id)
    checks = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    for record in checks:
        evaluation = record.event_log_entry.get_dagster_event().asset_check_evaluation_data
        if evaluation.passed:
            continue
        metadata = {k: v.value for k, v in evaluation.metadata.items() if isinstance(v, _SHORT_METADATA)}
        yield Alert(
            kind="check_failed",
            severity=evaluation.severity.value,
            job=run.job_name,
            run_id=run.run_id,
            run_url=url,
            asset=evaluation.asset_key.to_user_string(),
            partition=evaluation.partition or partition,
            check=evaluation.check_name,
            blocking=bool(evaluation.blocking),
            message=first_line(evaluation.description or ""),
            details=details_from(metadata),
            timestamp=record.event_log_entry.timestamp,
        )
    if run.status != dg.DagsterRunStatus.FAILURE:
        return
    steps = _step_assets(repository)
    failures = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    for record in failures:
        event = record.event_log_entry.get_dagster_event()
        error = event.step_failure_data.error
        if error is not None and error.cls_name == _CHECK_FAILED_ERROR:
            continue
        step = (event.step_key or "").split(".")[0]
        assets = steps.get(step, (step,))
        yield Alert(
            kind="run_failed",
            severity="ERROR",
            job=run.job_name,
            run_id=run.run_id,
            run_url=url,
            asset=assets[0] if len(assets) == 1 else step,
            assets=assets,
            partition=partition,
            blocking=True,
            message=_root_cause(error),
            timestamp=record.event_log_entry.timestamp,
        )
    if not failures:  # failed before any step ran: launch, code loading or a crashed run worker
        ended = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
        entry = ended[-1].event_log_entry if ended else None
        yield Alert(
            kind="run_failed",
            severity="ERROR",
            job=run.job_name,
            run_id=run.run_id,
            run_url=url,
            asset="(no step ran)",
            partition=partition,
            blocking=True,
            message=first_line(entry.message if entry else "run failed"),
            timestamp=entry.timestamp if entry else time.time(),
        )


def _root_cause(error: "SerializableErrorInfo | None") -> str:
    """The user's exception under Dagster's wrappers, as one short line (the stack stays in the run logs)."""
    if error is None:
        return "step failed"
    while error.cause is not None:
        error = error.cause
    return first_line(error.message)


def _read_cursor(raw: str | None) -> dict[str, int]:
    return {name: int(value) for name, value in json.loads(raw).items()} if raw else {}


def _new_run_outcomes(
    instance: dg.DagsterInstance, event_type: _RunOutcome, after: int | None
) -> tuple[list[dg.EventLogRecord], int]:
    """Run-status events of ``event_type`` after storage id ``after`` (oldest first), and the new cursor.

    Without a cursor (the sensor's first tick) only the last day counts, and with nothing in it the cursor
    starts at the newest event, so switching alerts on for an old instance does not replay its history."""
    if after is not None:
        records = instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(event_type, after_storage_id=after),
            limit=_RUNS_PER_TICK,
            ascending=True,
        ).records
        return list(records), records[-1].storage_id if records else after
    since = time.time() - _FIRST_TICK_LOOKBACK_SECONDS
    records = instance.fetch_run_status_changes(
        dg.RunStatusChangeRecordsFilter(event_type, after_timestamp=since),
        limit=_RUNS_PER_TICK,
        ascending=True,
    ).records
    if records:
        return list(records), records[-1].storage_id
    newest = instance.fetch_run_status_changes(event_type, limit=1, ascending=False).records
    return [], newest[0].storage_id if newest else 0


def _ours(run: dg.DagsterRun, context: dg.SensorEvaluationContext) -> bool:
    """Runs launched from another code location of the instance are that location's business; runs
    executed in process (``make run``, scripts) have no origin and are ours."""
    origin, here = run.remote_job_origin, context.code_location_origin
    if origin is None or here is None:
        return True
    return origin.location_name == here.location_name


@dg.sensor(
    name=SENSOR_NAME,
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Sends an alert for every failed asset check (error or warning) and every failed run of this code "
        "location, naming the asset, reporting year, check and run, to the alert log under the data root "
        "(alerts/alerts.jsonl) and to the webhook in $CIN_ALERT_WEBHOOK_URL if set. One alert per failure."
    ),
)
def cin_failure_alerts(
    context: dg.SensorEvaluationContext, data_root: CinDataRoot, alert_notifier: AlertNotifier
):
    instance, repository = context.instance, context.repository_def
    assert repository is not None, "a sensor evaluated inside a code location always has its repository"
    cursor = _read_cursor(context.cursor)
    log_path = data_root.alerts_dir / ALERT_LOG
    already_sent = logged_keys(log_path)
    sent = 0
    for outcome, event_type in _OUTCOMES.items():
        records, cursor[outcome] = _new_run_outcomes(instance, event_type, cursor.get(outcome))
        for record in records:
            run = instance.get_run_by_id(record.run_id)
            if run is None or not _ours(run, context):  # deleted, or another code location's run
                continue
            for alert in run_alerts(instance, run, repository, alert_notifier):
                if alert.key in already_sent:
                    continue
                delivery = alert_notifier.send(alert, log_path)
                already_sent.add(alert.key)
                sent += 1
                context.log.info(f"[{alert.partition or 'release'}] alert sent: {alert.title} ({delivery})")
    context.update_cursor(json.dumps(cursor, sort_keys=True))
    return None if sent else dg.SkipReason("no new failed checks or runs")


defs = dg.Definitions(sensors=[cin_failure_alerts], resources={"alert_notifier": AlertNotifier()})
