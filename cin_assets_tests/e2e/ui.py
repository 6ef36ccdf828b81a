"""Driving the Dagster UI in a real headless Chromium (Debian's ``/usr/bin/chromium``) with Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from cin_assets_tests.e2e.harness import OUTPUT, DagsterDev, wait_for

CHROMIUM = Path(os.environ.get("CIN_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000


@contextmanager
def browser_page() -> Iterator[Page]:
    """A fresh page in headless Chromium; fails (never skips) when the browser is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: install it with `apt-get install -y chromium` (.ci/run does this on CI)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def screenshot(page: Page, name: str) -> Path:
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def ui_runs(dev: DagsterDev, job: str, partition: str) -> list[str]:
    """Run ids of ``job`` for ``partition`` launched from the UI, newest first."""
    data = dev.graphql(
        """query($filter: RunsFilter!) { runsOrError(filter: $filter) { ... on Runs { results { runId } } } }""",
        {
            "filter": {
                "pipelineName": job,
                "tags": [
                    {"key": "dagster/partition", "value": partition},
                    {"key": "dagster/from_ui", "value": "true"},
                ],
            }
        },
    )
    return [r["runId"] for r in data["runsOrError"]["results"]]


def materialise_year_from_ui(page: Page, dev: DagsterDev, year: str) -> str:
    """Job page -> "Materialize all" -> choose the reporting year -> "Launch 1 run"; returns the run id."""
    before = set(ui_runs(dev, "reporting_year_job", year))
    page.goto(dev.url(f"/locations/{dev.location}/jobs/reporting_year_job"))
    page.get_by_text("census", exact=True).first.wait_for()  # the job's asset graph has loaded
    page.get_by_role("button", name="Materialize all").click()
    # The launch dialog is the modal one: its partition picker is a popover that also has role "dialog".
    dialog = page.locator('[role="dialog"][aria-modal="true"]')
    dialog.get_by_text("Select a partition or create one").click()
    page.get_by_role("menuitem").filter(has_text=year).first.click()
    page.keyboard.press("Escape")  # closes the partition menu, not the dialog
    dialog.get_by_text("1 partition").wait_for()
    launch = dialog.get_by_role("button", name="Launch 1 run")
    launch.click()
    dialog.wait_for(state="hidden")
    (run_id,) = wait_for(
        f"the UI run of {year}",
        lambda: [r for r in ui_runs(dev, "reporting_year_job", year) if r not in before],
        60,
    )
    return run_id


def show_run(page: Page, dev: DagsterDev, run_id: str, status: str = "Success") -> None:
    """The run's page, once its status badge and its event log have loaded."""
    page.goto(dev.url(f"/runs/{run_id}"))
    page.get_by_text(status, exact=True).first.wait_for()
    page.get_by_text("Loading run logs").first.wait_for(state="hidden")
