"""Alerts for the statistics team: what failed, where, and a link to the run (no Dagster import here).

An :class:`Alert` is built by the Dagster sensor in ``cin_assets.defs.alerts`` for every failed asset check
(error or warning) and every run that failed for a reason other than a failed check. This module turns it
into the JSON a Slack or Microsoft Teams (Workflows) incoming webhook accepts, and into one line of the
alert log (``<data root>/alerts/alerts.jsonl``). Alerts carry names, counts and links only: check metadata
is filtered to numbers, booleans and short text, so no table or child-level value can reach a chat channel.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Literal

AlertKind = Literal["check_failed", "run_failed"]
WebhookFormat = Literal["slack", "teams"]
WEBHOOK_FORMATS: tuple[str, ...] = ("slack", "teams")

_MAX_TEXT = 200
_MAX_DETAILS = 8
_MAX_ASSETS = 6


@dataclass(frozen=True)
class Alert:
    """One failure worth a message.

    ``asset``/``check``/``partition`` name what failed (``check`` is empty for a run failure, ``partition``
    empty for release-level assets); ``severity`` is ``ERROR`` or ``WARN``; ``blocking`` says whether the
    failure stopped everything downstream of the partition; ``details`` are short label/value pairs;
    ``assets`` lists every asset of a failed step that materialises several (then ``asset`` is the step)."""

    kind: AlertKind
    severity: str
    job: str
    run_id: str
    run_url: str
    asset: str
    partition: str = ""
    check: str = ""
    blocking: bool = False
    message: str = ""
    details: tuple[tuple[str, str], ...] = ()
    timestamp: float = 0.0
    assets: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Identifies the failure: one alert per check, partition and run (or per failed run)."""
        return ":".join((self.kind, self.run_id, self.asset, self.check, self.partition))

    @property
    def title(self) -> str:
        where = f"{self.asset} [{self.partition}]" if self.partition else self.asset
        if self.kind == "check_failed":
            level = "error" if self.severity == "ERROR" else "warning"
            return f"CIN check failed ({level}): {self.check} on {where}"
        return f"CIN run failed: {self.job} at {where}"

    @property
    def consequence(self) -> str:
        if self.kind == "run_failed":
            return "The run failed: its remaining steps did not run."
        if self.blocking and self.severity == "ERROR":
            return "Blocking: nothing downstream of this reporting year was materialised."
        return "Not blocking: downstream assets were still materialised."

    def facts(self) -> tuple[tuple[str, str], ...]:
        """The label/value pairs every format shows, in a fixed order."""
        rows = [("Asset", self.asset)]
        if len(self.assets) > 1:
            shown = ", ".join(self.assets[:_MAX_ASSETS])
            more = len(self.assets) - _MAX_ASSETS
            rows.append(("Assets of the failed step", shown + (f" and {more} more" if more > 0 else "")))
        rows.append(("Reporting year", self.partition or "(release)"))
        if self.check:
            rows.append(("Check", self.check))
        rows += [("Severity", self.severity), ("Job", self.job), ("Run", self.run_id)]
        return (*rows, *self.details)


def detail_value(value: object) -> str | None:
    """A check metadata value fit for an alert: numbers, booleans and short one-line text only."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, str) and "\n" not in value:
        return value if len(value) <= _MAX_TEXT else value[: _MAX_TEXT - 3] + "..."
    return None


def details_from(metadata: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    """Keep at most a few short values of a check's metadata, in the check's own order."""
    kept = [(label, text) for label, value in metadata.items() if (text := detail_value(value)) is not None]
    return tuple(kept[:_MAX_DETAILS])


def first_line(text: str, limit: int = _MAX_TEXT) -> str:
    """The first non-empty line of an error message, shortened: stack traces stay in the run's logs."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def text(alert: Alert) -> str:
    """Plain text: the Slack fallback, and what log readers and e-mail bodies show."""
    lines = [alert.title, alert.consequence]
    if alert.message:
        lines.append(alert.message)
    lines += [f"{label}: {value}" for label, value in alert.facts()]
    lines.append(f"Open the run: {alert.run_url}")
    return "\n".join(lines)


def slack_payload(alert: Alert) -> dict[str, object]:
    """A Slack incoming-webhook message: a header, the facts as fields and a button to the run."""
    facts = alert.facts()
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(alert.consequence)}},
    ]
    if alert.message:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(alert.message)}})
    for start in range(0, len(facts), 10):  # Slack allows 10 fields per section
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{_slack_escape(label)}*\n{_slack_escape(value)}"}
                    for label, value in facts[start : start + 10]
                ],
            }
        )
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open the run"},
                    "url": alert.run_url,
                }
            ],
        }
    )
    return {"text": f"{alert.title}: {alert.run_url}", "blocks": blocks}


def teams_payload(alert: Alert) -> dict[str, object]:
    """A Microsoft Teams Workflows webhook message: an Adaptive Card with the facts and a link to the run."""
    body: list[dict[str, object]] = [
        {"type": "TextBlock", "text": alert.title, "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": alert.consequence, "wrap": True},
    ]
    if alert.message:
        body.append({"type": "TextBlock", "text": alert.message, "wrap": True})
    body.append(
        {"type": "FactSet", "facts": [{"title": label, "value": value} for label, value in alert.facts()]}
    )
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": "Open the run", "url": alert.run_url}],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def webhook_payload(alert: Alert, fmt: str) -> dict[str, object]:
    """The webhook body for ``fmt`` (``slack`` or ``teams``)."""
    if fmt == "slack":
        return slack_payload(alert)
    if fmt == "teams":
        return teams_payload(alert)
    raise ValueError(f"unknown webhook format {fmt!r}: expected one of {', '.join(WEBHOOK_FORMATS)}")


def log_line(alert: Alert, delivery: str) -> str:
    """One JSON line of the alert log: the alert's fields, its key, text and how delivery went."""
    record = asdict(alert)
    record["details"] = dict(alert.details)
    record["assets"] = list(alert.assets)
    record["time"] = dt.datetime.fromtimestamp(alert.timestamp, dt.UTC).isoformat(timespec="seconds")
    record.update(key=alert.key, title=alert.title, text=text(alert), delivery=delivery)
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


def _slack_escape(value: str) -> str:
    """Slack mrkdwn treats &, < and > as control characters."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
