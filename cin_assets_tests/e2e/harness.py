"""A real ``dagster dev`` (webserver + daemon) on a free localhost port, and helpers to drive it.

Process hygiene (see the project's Dagster notes): started in its own session with SIGINT restored to the
default, so SIGTERM stops the whole tree; a SIGKILL of the process group is the fallback.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
OUTPUT = PROJECT / "test-output"
DAGSTER = Path(sys.executable).parent / "dagster"
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, probe: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class DagsterDev:
    """``dagster dev`` against the project's workspace, a given instance folder and data root."""

    def __init__(self, home: Path, data_root: Path, env: Mapping[str, str] | None = None) -> None:
        self.home = home
        self.data_root = data_root
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / "dagster_dev.log"
        self.env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "CIN_DATA_DIR": str(data_root),
            "CIN_DAGSTER_URL": self.base_url,
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.location = ""
        self.repository = ""

    def __enter__(self) -> DagsterDev:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 180) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                str(DAGSTER),
                "dev",
                "-w",
                str(PROJECT / "workspace.yaml"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            cwd=PROJECT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        log.close()
        try:
            wait_for("the Dagster webserver", self._server_up, timeout, interval=0.5)
            self.location, self.repository = wait_for("the cin_assets code location", self._loaded, timeout)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM to ``dagster dev`` (it shuts its webserver, daemon and code servers down), then SIGKILL
        to whatever of its own process group is still there."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(30)
        with contextlib.suppress(ProcessLookupError):  # the group is ours: started with a new session
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _server_up(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"dagster dev exited with {self.process.returncode}:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(f"{self.base_url}/server_info", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def _loaded(self) -> tuple[str, str] | None:
        data = self.graphql(
            """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
                 locationOrLoadError { __typename ... on RepositoryLocation { repositories { name } }
                                       ... on PythonError { message } } } } } }"""
        )
        for entry in data["workspaceOrError"]["locationEntries"]:
            location = entry["locationOrLoadError"]
            if location and location["__typename"] == "PythonError":
                raise RuntimeError(f"code location {entry['name']} failed to load: {location['message']}")
            if entry["loadStatus"] == "LOADED" and location:
                return entry["name"], location["repositories"][0]["name"]
        return None

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        request = urllib.request.Request(
            self.url("/graphql"), data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise RuntimeError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    # --- runs, backfills and checks -------------------------------------------------------------------

    def selector(self, job: str) -> dict[str, str]:
        return {"repositoryLocationName": self.location, "repositoryName": self.repository, "jobName": job}

    def launch_run(self, job: str, partition: str | None = None, assets: list[str] | None = None) -> str:
        selector: dict[str, Any] = self.selector(job)
        if assets is not None:
            selector["assetSelection"] = [{"path": [a]} for a in assets]
        tags = [{"key": "dagster/partition", "value": partition}] if partition else []
        data = self.graphql(
            """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
                 __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
                 ... on RunConfigValidationInvalid { errors { message } } ... on InvalidSubsetError { message } } }""",
            {"params": {"selector": selector, "executionMetadata": {"tags": tags}, "runConfigData": {}}},
        )["launchRun"]
        if data["__typename"] != "LaunchRunSuccess":
            raise RuntimeError(f"launchRun failed: {data}")
        return data["run"]["runId"]

    def run(self, run_id: str) -> dict[str, Any]:
        return self.graphql(
            """query($id: ID!) { runOrError(runId: $id) { ... on Run { runId status jobName startTime endTime
                 tags { key value } } } }""",
            {"id": run_id},
        )["runOrError"]

    def wait_run(self, run_id: str, timeout: float = 600) -> dict[str, Any]:
        return wait_for(
            f"run {run_id}", lambda: (r := self.run(run_id))["status"] in TERMINAL and r, timeout, 2
        )

    def run_logs(self, run_id: str) -> list[dict[str, Any]]:
        """Every event of a run (paged): message, level, type name, step key."""
        events: list[dict[str, Any]] = []
        cursor = None
        while True:
            data = self.graphql(
                """query($id: ID!, $cursor: String) { logsForRun(runId: $id, afterCursor: $cursor) {
                     ... on EventConnection { events { __typename ... on MessageEvent { message level stepKey } }
                                              cursor hasMore } } }""",
                {"id": run_id, "cursor": cursor},
            )["logsForRun"]
            events += data["events"]
            if not data["hasMore"]:
                return events
            cursor = data["cursor"]

    def launch_backfill(self, assets: list[str], partitions: list[str]) -> str:
        """A backfill as the UI's Materialize dialog launches it: the selected assets and partition names
        (Dagster targets those partitions of the root assets and every partition downstream of them)."""
        data = self.graphql(
            """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
                 __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
            {
                "params": {
                    "assetSelection": [{"path": [a]} for a in assets],
                    "partitionNames": partitions,
                    "fromFailure": False,
                    "tags": [],
                }
            },
        )["launchPartitionBackfill"]
        if data["__typename"] != "LaunchBackfillSuccess":
            raise RuntimeError(f"launchPartitionBackfill failed: {data}")
        return data["backfillId"]

    def wait_backfill(self, backfill_id: str, timeout: float = 900) -> dict[str, Any]:
        """The backfill once it has ended (any status but requested or canceling); on timeout, the error
        shows its runs so far."""
        last: dict[str, Any] = {}

        def ended() -> dict[str, Any] | None:
            nonlocal last
            last = self.backfill(backfill_id)
            return last if last["status"] not in ("REQUESTED", "CANCELING") else None

        try:
            return wait_for(f"backfill {backfill_id}", ended, timeout, 3)
        except TimeoutError as exc:
            runs = [
                (r["status"], {t["key"]: t["value"] for t in r["tags"]}.get("dagster/partition"))
                for r in last.get("runs", [])
            ]
            raise TimeoutError(f"{exc}; runs so far (status, partition): {runs}") from None

    def materialisable_assets(self, partitioned: bool | None = None) -> list[str]:
        """Every asset a run can materialise (what the UI's "Materialize all" selects), or only the
        partitioned (``True``) or unpartitioned (``False``) ones."""
        data = self.graphql("{ assetNodes { assetKey { path } isPartitioned isMaterializable } }")
        return sorted(
            n["assetKey"]["path"][-1]
            for n in data["assetNodes"]
            if n["isMaterializable"] and (partitioned is None or n["isPartitioned"] == partitioned)
        )

    def backfill(self, backfill_id: str) -> dict[str, Any]:
        return self.graphql(
            """query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill {
                 id status runs(limit: 100) { runId status tags { key value } } } } }""",
            {"id": backfill_id},
        )["partitionBackfillOrError"]

    def check_executions(self, asset: str, check: str, partition: str | None = None) -> list[dict[str, Any]]:
        return self.graphql(
            """query($key: AssetKeyInput!, $check: String!, $partition: String) {
                 assetCheckExecutions(assetKey: $key, checkName: $check, limit: 20, partition: $partition) {
                   runId status partition evaluation { severity } } }""",
            {"key": {"path": [asset]}, "check": check, "partition": partition},
        )["assetCheckExecutions"]

    def all_checks(self) -> dict[str, list[str]]:
        """Every partitioned asset with checks (the ones a reporting year's run executes), and their
        names (one query); the release's checks run in the release job, not per year."""
        data = self.graphql(
            """{ assetNodes { assetKey { path } isPartitioned
                 assetChecksOrError { ... on AssetChecks { checks { name } } } } }"""
        )
        return {
            node["assetKey"]["path"][-1]: [c["name"] for c in node["assetChecksOrError"]["checks"]]
            for node in data["assetNodes"]
            if node["isPartitioned"] and node["assetChecksOrError"].get("checks")
        }

    def latest_check_executions(
        self, checks: dict[str, list[str]], partition: str
    ) -> dict[tuple[str, str], dict]:
        """The latest execution of each (asset, check) for ``partition``, in one aliased query."""
        pairs = [(asset, check) for asset, names in checks.items() for check in names]
        fields = "\n".join(
            f'c{i}: assetCheckExecutions(assetKey: {{path: ["{asset}"]}}, checkName: "{check}", limit: 1, '
            f'partition: "{partition}") {{ runId status partition }}'
            for i, (asset, check) in enumerate(pairs)
        )
        data = self.graphql(f"{{ {fields} }}")
        return {pair: (data[f"c{i}"] or [None])[0] for i, pair in enumerate(pairs)}


def instance_yaml() -> str:
    """The project's ``dagster.yaml``, as ``make ui`` installs it (nux and telemetry off)."""
    return (PROJECT / "dagster.yaml").read_text()
