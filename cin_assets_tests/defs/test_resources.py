"""The code location's resources take the data root from ``$CIN_DATA_DIR`` when a run starts (``dg.EnvVar``),
never when the module is imported: one process materialises against one data root, then another."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from cin_assets.definitions import defs
from cin_assets.defs import census
from cin_assets.defs.resources import CinDataRoot, ParquetIOManager, SuppressionRule
from cin_assets_tests.census.test_reader import HEADER, child, write_return


def test_one_process_switches_data_roots_between_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_return(first / "census" / "2020" / "845.xml", child("A") + child("B"))
    write_return(second / "census" / "2020" / "846.xml", child("C"), HEADER.replace("845", "846"))
    resources = {key: defs.resources[key] for key in ("data_root", "parquet_io")}
    assert isinstance(resources["parquet_io"], ParquetIOManager)
    assert isinstance(resources["data_root"], CinDataRoot)

    counts: dict[Path, list[str]] = {}
    with dg.instance_for_test() as instance:
        for root in (first, second):
            monkeypatch.setenv("CIN_DATA_DIR", str(root))
            result = dg.materialize(
                [census.census_returns, census.census_staging],
                partition_key="2020",
                instance=instance,
                resources=resources,
            )
            assert result.success
            staged = pl.read_parquet(root / "staging" / "staging_children" / "2020.parquet")
            counts[root] = sorted(staged["la_code"].to_list())
    assert counts == {first: ["845", "845"], second: ["846"]}


def test_a_run_without_a_data_root_fails_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIN_DATA_DIR", raising=False)
    resources = {key: defs.resources[key] for key in ("data_root", "parquet_io")}
    with dg.instance_for_test() as instance, pytest.raises(Exception, match="CIN_DATA_DIR"):
        dg.materialize([census.census_returns], partition_key="2020", instance=instance, resources=resources)


def test_the_suppression_rule_is_read_when_a_run_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The code location's ``suppression_rule`` follows ``$CIN_SUPPRESSION`` as set when it is read (cin-run
    sets it from ``--suppression``, the Makefile from ``SUPPRESSION``), never at import; a name given in
    the launchpad wins; an unknown rule is refused naming the choices."""
    rule = defs.resources["suppression_rule"]
    assert isinstance(rule, SuppressionRule)
    monkeypatch.delenv("CIN_SUPPRESSION", raising=False)
    assert rule.config.rule == "dfe" and rule.config.protection == 1
    monkeypatch.setenv("CIN_SUPPRESSION", "strict")
    assert rule.config.rule == "strict" and rule.config.protection == 6
    assert SuppressionRule(name="dfe").config.rule == "dfe"
    monkeypatch.setenv("CIN_SUPPRESSION", "lenient")
    with pytest.raises(ValueError, match="unknown suppression rule 'lenient': choose one of dfe, strict"):
        _ = rule.config
