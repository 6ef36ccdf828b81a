"""The code location's shape (asset keys, groups, checks, partitions, jobs, sensors) against a committed
snapshot, so a change to what users see in the UI shows up in review as a diff of
``cin_assets_tests/snapshots/definitions.json``.

After an intended change, rewrite the snapshot with ``make snapshot`` (``CIN_UPDATE_SNAPSHOT=1 pytest
cin_assets_tests/test_definitions.py``) and commit it with the change.
"""

import json
import os
from pathlib import Path

import dagster as dg

from cin_assets.definitions import defs

SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "definitions.json"


def _partitions(partitions_def: dg.PartitionsDefinition | None) -> str | None:
    if partitions_def is None:
        return None
    return f"{type(partitions_def).__name__}: {', '.join(partitions_def.get_partition_keys())}"


def code_location_shape(definitions: dg.Definitions) -> dict:
    """What a user of the UI sees of ``definitions``, as plain sorted data."""
    repo = definitions.get_repository_def()
    graph = repo.asset_graph
    checks: dict[str, dict[str, str]] = {}
    for check_key in graph.asset_check_keys:
        spec = graph.get_check_spec(check_key)
        checks.setdefault(check_key.asset_key.to_user_string(), {})[check_key.name] = (
            f"{'blocking' if spec.blocking else 'non-blocking'}, "
            f"{'per partition' if spec.partitions_def is not None else 'unpartitioned'}"
        )
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "partitions": _partitions(node.partitions_def),
            "checks": dict(sorted(checks.get(key.to_user_string(), {}).items())),
        }
    jobs = {
        job.name: {
            "partitions": _partitions(job.partitions_def),
            "assets": sorted(k.to_user_string() for k in job.asset_layer.executable_asset_keys),
        }
        for job in sorted(definitions.resolve_all_job_defs(), key=lambda j: j.name)
        if not job.name.startswith("__")
    }
    return {
        "assets": assets,
        "jobs": jobs,
        "sensors": sorted(s.name for s in repo.sensor_defs),
        "schedules": sorted(s.name for s in repo.schedule_defs),
    }


def test_code_location_matches_the_committed_snapshot() -> None:
    shape = json.dumps(code_location_shape(defs), indent=1, sort_keys=True) + "\n"
    if os.environ.get("CIN_UPDATE_SNAPSHOT"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(shape, encoding="utf-8")
    assert SNAPSHOT.read_text(encoding="utf-8") == shape, (
        "the code location changed: review the diff, then `make snapshot` and commit the snapshot"
    )


def test_the_module_holds_one_definitions_object_for_every_dagster_loader() -> None:
    import cin_assets.definitions as module

    found = [name for name, value in vars(module).items() if isinstance(value, dg.Definitions)]
    assert found == ["defs"]
    dg.Definitions.validate_loadable(defs)
