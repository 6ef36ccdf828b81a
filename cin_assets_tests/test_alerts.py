"""The alert payloads and log lines: what a Slack or Teams channel and the alert log receive."""

import json

import pytest

from cin_assets.alerts import (
    Alert,
    details_from,
    first_line,
    log_line,
    slack_payload,
    teams_payload,
    text,
    webhook_payload,
)

URL = "http://dagster.example:3000/runs/abc"


def _check_alert(**changes: object) -> Alert:
    fields = dict(
        kind="check_failed",
        severity="ERROR",
        job="reporting_year_job",
        run_id="abc",
        run_url=URL,
        asset="census_validation",
        partition="2019",
        check="no_validation_errors",
        blocking=False,
        details=(("failures", "3"), ("la_codes", "916")),
        timestamp=1_700_000_000.0,
    )
    return Alert(**(fields | changes))


def test_slack_payload_names_asset_year_check_and_links_the_run() -> None:
    payload = slack_payload(_check_alert())
    assert (
        payload["text"]
        == f"CIN check failed (error): no_validation_errors on census_validation [2019]: {URL}"
    )
    fields = [f["text"] for block in payload["blocks"] if "fields" in block for f in block["fields"]]
    assert "*Asset*\ncensus_validation" in fields
    assert "*Reporting year*\n2019" in fields
    assert "*Check*\nno_validation_errors" in fields
    assert "*failures*\n3" in fields
    button = payload["blocks"][-1]["elements"][0]
    assert button["url"] == URL
    assert "Not blocking" in json.dumps(payload)


def test_slack_escapes_control_characters() -> None:
    payload = slack_payload(_check_alert(details=(("rule", "a<b & c>d"),)))
    assert "*rule*\na&lt;b &amp; c&gt;d" in [
        f["text"] for b in payload["blocks"] if "fields" in b for f in b["fields"]
    ]


def test_teams_payload_is_an_adaptive_card_with_facts_and_a_link() -> None:
    payload = teams_payload(_check_alert(severity="WARN", check="no_validation_queries"))
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert (
        card["body"][0]["text"]
        == "CIN check failed (warning): no_validation_queries on census_validation [2019]"
    )
    facts = {f["title"]: f["value"] for b in card["body"] if b["type"] == "FactSet" for f in b["facts"]}
    assert facts["Reporting year"] == "2019"
    assert facts["Severity"] == "WARN"
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open the run", "url": URL}]


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown webhook format 'email'"):
        webhook_payload(_check_alert(), "email")


def test_blocking_error_and_run_failure_say_what_was_stopped() -> None:
    assert "nothing downstream" in text(_check_alert(blocking=True))
    run = _check_alert(
        kind="run_failed", check="", asset="protect_year", assets=tuple(f"p{i}" for i in range(9))
    )
    assert run.title == "CIN run failed: reporting_year_job at protect_year [2019]"
    assert ("Assets of the failed step", "p0, p1, p2, p3, p4, p5 and 3 more") in run.facts()
    assert all(label != "Check" for label, _ in run.facts())


def test_release_level_failure_has_no_year() -> None:
    alert = _check_alert(partition="", asset="published_b1", check="x")
    assert alert.title.endswith("on published_b1")
    assert ("Reporting year", "(release)") in alert.facts()


def test_details_keep_short_scalars_only() -> None:
    metadata = {
        "failures": 3,
        "share": 0.25,
        "blocking": True,
        "la_codes": "845, 873",
        "table": "| a |\n|---|",
        "long": "x" * 500,
    }
    details = dict(details_from(metadata))
    assert details["failures"] == "3"
    assert details["share"] == "0.25"
    assert details["blocking"] == "yes"
    assert details["la_codes"] == "845, 873"
    assert "table" not in details
    assert len(details["long"]) == 200
    assert len(details_from({f"k{i}": i for i in range(20)})) == 8


def test_first_line_drops_the_stack() -> None:
    assert first_line("\n  ValueError: boom\n  File x, line 3") == "ValueError: boom"
    assert len(first_line("y" * 1000)) == 200


def test_log_line_is_stable_json_with_the_key() -> None:
    alert = _check_alert()
    line = log_line(alert, "log only")
    assert line == log_line(alert, "log only")
    record = json.loads(line)
    assert record["key"] == "check_failed:abc:census_validation:no_validation_errors:2019"
    assert record["time"] == "2023-11-14T22:13:20+00:00"
    assert record["details"] == {"failures": "3", "la_codes": "916"}
    assert record["delivery"] == "log only"
    assert "Open the run: " + URL in record["text"]


def test_keys_differ_per_partition_check_and_run() -> None:
    keys = {
        _check_alert().key,
        _check_alert(partition="2020").key,
        _check_alert(check="no_validation_queries").key,
        _check_alert(run_id="def").key,
    }
    assert len(keys) == 4
