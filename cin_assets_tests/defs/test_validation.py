"""The validation report asset and its checks, materialised per reporting year against a temporary data root."""

import shutil
from pathlib import Path

import dagster as dg
import polars as pl

from cin_assets.defs import census, validation
from cin_assets.defs.resources import default_resources
from cin_assets.validation.rules import RULES
from cin_assets_tests.validation.clean_return import CLEAN_XML, FAULTS, faulty_xml

ASSETS = [census.census_returns, census.census_staging, validation.census_validation]


def _data_root(tmp_path: Path, files: dict[str, bytes]) -> Path:
    root = tmp_path / "data"
    folder = root / "census" / "2020"
    folder.mkdir(parents=True)
    for name, xml in files.items():
        (folder / name).write_bytes(xml)
    shutil.copytree(Path(__file__).resolve().parents[2] / "data" / "reference", root / "reference")
    return root


def _materialize(root: Path) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        return dg.materialize(
            ASSETS,
            partition_key="2020",
            instance=instance,
            resources={**default_resources(root), "validation_policy": validation.ValidationPolicy()},
            raise_on_error=False,
        )


def _fault(rule: str, lea: str) -> bytes:
    return faulty_xml(next(f for f in FAULTS if f.rule == rule), lea=lea)


def test_clean_year_passes_both_checks(tmp_path: Path) -> None:
    root = _data_root(tmp_path, {"845.xml": CLEAN_XML.encode()})
    result = _materialize(root)
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks[validation.ERRORS_CHECK].passed and checks[validation.QUERIES_CHECK].passed
    assert pl.read_parquet(root / "staging" / "census_validation" / "2020.parquet").is_empty()


def test_errors_fail_the_error_check_without_failing_the_run(tmp_path: Path) -> None:
    files = {
        "845.xml": CLEAN_XML.encode(),
        "846.xml": _fault("8620", "846"),
        "850.xml": _fault("100", "850"),
        "851.xml": _fault("8545Q", "851"),
    }
    root = _data_root(tmp_path, files)
    result = _materialize(root)
    assert result.success  # non-blocking: the default policy still counts every LA
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    errors, queries = checks[validation.ERRORS_CHECK], checks[validation.QUERIES_CHECK]
    assert not errors.passed and errors.severity == dg.AssetCheckSeverity.ERROR and errors.partition == "2020"
    assert errors.metadata["la_codes"].value == "846, 850"
    assert not queries.passed and queries.severity == dg.AssetCheckSeverity.WARN
    assert queries.metadata["la_codes"].value == "851"

    report = pl.read_parquet(root / "staging" / "census_validation" / "2020.parquet")
    assert set(report["rule"]) == {"8620", "100", "8545Q"}
    (event,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "census_validation"
    ]
    metadata = event.materialization.metadata
    assert metadata["errors"].value == 2 and metadata["queries"].value == 1
    # per LA and file, each rule with its DfE text beside its code
    rule_8620 = next(r for r in RULES if r.code == "8620")
    assert (
        f"| 846 | 846.xml | 8620 | error | 1 | 1 | {rule_8620.message}"
        in metadata["failures_by_la_and_rule"].value
    )
    assert f"| 8620 | {rule_8620.message} | 1 | 1 |" in errors.metadata["by_rule"].value
    assert "| 850 | 850.xml | 100 |" in errors.metadata["by_la_and_file"].value
    assert "851" not in errors.metadata["by_la_and_file"].value  # the queries are the other check's
    # where the child-level report is, never its rows
    assert "census_validation" in errors.metadata["child_level_report"].value
    assert metadata["path"].value == str(root / "staging" / "census_validation" / "2020.parquet")
    # counts only: no child identifier or value reaches the UI
    shown = " ".join(
        str(v.value) for md in (metadata, errors.metadata, queries.metadata) for v in md.values()
    )
    assert "C00" not in shown and "2020-04-10" not in shown


def test_policy_resource_applies_the_configured_policy() -> None:
    report = pl.DataFrame(
        {
            "reporting_year": [2020],
            "la_code": ["846"],
            "LAchildID": ["A"],
            "rule": ["8620"],
            "type": ["error"],
        },
        schema_overrides={"reporting_year": pl.Int32},
    )
    children = pl.DataFrame(
        {"reporting_year": [2020, 2020], "la_code": ["845", "846"], "LAchildID": ["A", "A"]},
        schema_overrides={"reporting_year": pl.Int32},
    )
    kept = validation.ValidationPolicy(policy="exclude_las").apply({"children": children}, report)
    assert kept["children"]["la_code"].to_list() == ["845"]
    assert validation.ValidationPolicy().apply({"children": children}, report)["children"].height == 2


def test_definitions_include_the_validation_asset_and_checks() -> None:
    from cin_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    assert dg.AssetKey("census_validation") in graph.get_all_asset_keys()
    names = {key.name for key in graph.asset_check_keys if key.asset_key == dg.AssetKey("census_validation")}
    assert names == {validation.ERRORS_CHECK, validation.QUERIES_CHECK}
