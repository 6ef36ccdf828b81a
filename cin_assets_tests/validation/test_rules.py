"""Every rule against the hand-built clean return: the clean return passes, and each fault fails exactly the
rules it names, on the child it targets, while the other children pass."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cin_assets.census import tables
from cin_assets.census.reader import read_return
from cin_assets.validation import BY_CODE, RULES, validate
from cin_assets_tests.validation.clean_return import CLEAN_XML, FAULTS, VALUE_FAULTS, Fault, faulty_xml

CHILDREN = {f"C00{n}" for n in range(1, 9)}


def _validate(tmp_path: Path, xml: bytes) -> pl.DataFrame:
    path = tmp_path / "845.xml"
    path.write_bytes(xml)
    return validate(read_return(path, 2020), 2020)


def test_clean_return_passes_every_rule(tmp_path: Path) -> None:
    report = _validate(tmp_path, CLEAN_XML.encode())
    assert report.is_empty(), report.select("LAchildID", "rule", "value")


def test_every_rule_has_a_fault() -> None:
    assert {r.code for r in RULES} == {f.rule for f in FAULTS}


@pytest.mark.parametrize("fault", FAULTS + VALUE_FAULTS, ids=lambda f: f.rule)
def test_fault_fails_only_its_rules(tmp_path: Path, fault: Fault) -> None:
    report = _validate(tmp_path, faulty_xml(fault))
    assert set(report["rule"]) == fault.expected, report.select("LAchildID", "rule", "value")
    own = report.filter(pl.col("rule") == fault.rule)
    if fault.child is None:
        assert own["LAchildID"].null_count() == own.height
        return
    failing = set(own["LAchildID"])
    assert fault.child in failing  # the failing child
    assert CHILDREN - failing  # ... and children that pass the same rule
    assert own["line"].null_count() == 0  # every child-level finding points at its element


def test_rule_definitions_are_well_formed() -> None:
    for rule in RULES:
        assert rule.type == ("query" if rule.code.endswith("Q") else "error"), rule.code
        assert rule.table in (*tables.TABLES, "return"), rule.code
        assert rule.fields and rule.message.strip(), rule.code
        assert rule.applies(2020) and rule.applies(2013)
    assert len(BY_CODE) == len(RULES)
    # rules whose 2019-20 form is in doubt say so
    for code in ("1530", "8525Q", "8569Q", "8617", "8899Q", "2886Q"):
        assert BY_CODE[code].uncertainty


def test_finding_names_file_element_line_and_values(tmp_path: Path) -> None:
    fault = next(f for f in FAULTS if f.rule == "8620")
    row = _validate(tmp_path, faulty_xml(fault)).row(0, named=True)
    lines = faulty_xml(fault).decode().splitlines()
    assert row["source_file"] == "845.xml"
    assert row["la_code"] == "845" and row["reporting_year"] == 2020
    assert row["type"] == "error" and row["category"] == "rule" and row["table"] == "episodes"
    assert "<CINdetails>" in lines[row["line"] - 1]
    assert row["value"] == "CINclosureDate=2020-04-10"
    assert row["message"] == "CIN Closure Date present and does not fall within the Census year"
