"""``cin-validate`` end to end: one fault per rule in its own return, hostile files, the public samples."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cin_assets import reference
from cin_assets.census import reader
from cin_assets.validation import cli
from cin_assets.validation.files import CHECKS
from cin_assets.validation.rulesets import ruleset
from cin_assets_tests.validation.clean_return import CLEAN_XML, FAULTS, VALUE_FAULTS, faulty_xml

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
LAS_2020 = reference.local_authorities(2020)["old_la_code"].to_list()


def _rules_by_file(report: pl.DataFrame) -> dict[str, set[str]]:
    return {
        name: set(group["rule"]) for (name,), group in report.group_by("source_file", maintain_order=True)
    }


def _run_json(tmp_path: Path, *args: str) -> tuple[int, pl.DataFrame]:
    out = tmp_path / "report.json"
    code = cli.main([*args, "--format", "json", "--output", str(out), "--workers", "1"])
    rows = json.loads(out.read_text())
    return code, pl.DataFrame(
        rows, schema={c: pl.String for c in cli.COLUMNS} | {"reporting_year": pl.Int64, "line": pl.Int64}
    )


def test_one_fault_per_return_reports_exactly_those_rules(tmp_path: Path) -> None:
    folder = tmp_path / "census" / "2020"
    folder.mkdir(parents=True)
    faults = FAULTS + VALUE_FAULTS
    las = [la for la in LAS_2020 if la != "845"]
    assert len(las) > len(faults)
    expected = {}
    for fault, la in zip(faults, las, strict=False):
        (folder / f"{la}.xml").write_bytes(faulty_xml(fault, lea=la))
        expected[f"{la}.xml"] = set(fault.expected)
    (folder / "845.xml").write_text(CLEAN_XML)
    code, report = _run_json(tmp_path, str(tmp_path / "census"))
    assert code == 1
    assert _rules_by_file(report) == expected  # the clean return has no rows at all
    assert (
        report["la_code"].to_list() == report["source_file"].str.replace(".xml", "", literal=True).to_list()
    )


def _write_hostile(folder: Path) -> dict[str, set[str]]:
    """Hostile and broken returns, each named for a 2020 LA, and the findings each must give."""
    clean = CLEAN_XML
    billion_laughs = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    files = {
        "201.xml": (clean.replace("<LEA>845", "<LEA>201")[:1500], {"xml_syntax"}),
        "202.xml": (
            f'<?xml version="1.0"?>\n<!DOCTYPE Message [<!ENTITY l0 "lol">{billion_laughs}]>\n<Message>&l9;</Message>',
            {"dtd_refused"},
        ),
        "203.xml": (
            '<?xml version="1.0"?>\n<!DOCTYPE Message [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<Message>&x;</Message>',
            {"dtd_refused"},
        ),
        "204.xml": ('<?xml version="1.0"?>\n<Returns><Message/></Returns>', {"wrong_root"}),
        "205.xml": ("", {"empty_file"}),
        "206.xml": (clean.replace("<Year>2020</Year>", "<Year>2019</Year>").replace("<LEA>845", "<LEA>206"),
                    {"header_year", "100"}),
        "207.xml": (clean.replace("<LEA>845", "<LEA>208"), {"header_lea"}),
        "940.xml": (clean.replace("<LEA>845", "<LEA>940"), {"la_unknown"}),
        "209.xml": (clean.replace("<LEA>845", "<LEA>209"), set()),
        "209_resubmitted.xml": (clean.replace("<LEA>845", "<LEA>209"), {"duplicate_return"}),
        "210.xml": (clean.replace("<LEA>845", "<LEA>210")[: clean.index("<Children>")] + "<Children/></Message>",
                    {"no_children"}),
        "211.xml": (clean[: clean.index("<Header>")] + clean[clean.index("<Children>"):], {"no_header"}),
        "212.xml": (clean.replace("<LEA>845", "<LEA>212").replace("<Ethnicity>AOTH</Ethnicity>",
                                                                   "<Ethnicity>AOTH</Ethnicity><Religion>X</Religion>"),
                    {"unknown_element"}),
        "213.xml": (clean.replace("<LEA>845", "<LEA>213").replace("2019-05-17</InitialCPCtarget>", "2019-02-30</InitialCPCtarget>"),
                    {"bad_value"}),
    }  # fmt: skip
    for name, (text, _) in files.items():
        (folder / name).write_text(text)
    return {name: codes for name, (_, codes) in files.items()}


def test_hostile_and_broken_returns_are_reported_not_fatal(tmp_path: Path) -> None:
    folder = tmp_path / "2020"
    folder.mkdir()
    expected = _write_hostile(folder)
    report = cli.run([folder], year=2020, workers=1)
    got = _rules_by_file(report)
    assert {name: got.get(name, set()) for name in expected} == expected
    header = report.filter(
        pl.col("rule").is_in(["header_year", "header_lea", "la_unknown", "duplicate_return"])
    )
    assert header.height == 4 and header["line"].null_count() == 0
    assert header.filter(pl.col("rule") == "header_lea")["value"].to_list() == ["208"]
    bad = report.filter(pl.col("rule") == "bad_value").row(0, named=True)
    assert (bad["value"], bad["fields"], bad["LAchildID"]) == ("2019-02-30", "InitialCPCtarget", "C001")
    syntax = report.filter(pl.col("rule") == "xml_syntax").row(0, named=True)
    assert syntax["line"] is not None and syntax["column"] is not None and "201.xml" in syntax["message"]
    # every finding names its file; file-level messages also say it in words
    assert report["source_file"].null_count() == 0
    file_level = report.filter(pl.col("category") == "file")
    assert all(name in msg for name, msg in file_level.select("source_file", "message").iter_rows())


def test_too_large_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIN_MAX_RETURN_BYTES", "1000")
    (tmp_path / "845.xml").write_text(CLEAN_XML)
    report = cli.run([tmp_path / "845.xml"], year=2020, workers=1)
    assert report["rule"].to_list() == ["file_too_large"]


def test_year_from_header_and_years_without_rules(tmp_path: Path) -> None:
    (tmp_path / "845.xml").write_text(CLEAN_XML)
    later = (SAMPLES / "cin-2021.xml").read_text().replace("<Year>2021</Year>", "<Year>2027</Year>")
    (tmp_path / "201.xml").write_text(later)
    missing = tmp_path / "missing.xml"
    report = cli.run([tmp_path, missing], workers=1)
    assert _rules_by_file(report) == {"201.xml": {"year_unsupported"}, str(missing): {"not_found"}}


def test_samples_validated_as_2019_20(tmp_path: Path) -> None:
    """Hand-checked: the sample returns validated as 2019-20 (see the final report for the reasoning)."""
    report = cli.run([SAMPLES], year=2020, workers=1)
    counts = {(f, r): n for f, r, n in report.group_by("source_file", "rule").len().iter_rows()}
    fake = {r: n for (f, r), n in counts.items() if f == "fake_CIN_data.xml"}
    assert fake == {
        "header_year": 1, "la_unknown": 1, "100": 1, "2886Q": 1, "1510": 320, "1530": 272, "2990": 28,
        "8520": 42, "8545Q": 19, "8555Q": 30, "8569Q": 224, "8585Q": 35, "8600": 146, "8620": 223,
        "8790": 3, "8794": 5, "8825Q": 30, "8831": 350, "implausible_date": 162,
    }  # fmt: skip
    one_child = {r for (f, r) in counts if f == "CIN_Census_2021.xml"}
    assert one_child == {
        "header_year", "2887Q", "1103", "1104", "1105", "1510", "1530", "1560Q", "2889", "8525Q", "8530Q",
        "8545Q", "8565", "8620", "8696", "8715", "8930", "implausible_date",
        "element_not_in_year",  # its CINPlanDates (from 2021-22) are not part of the 2019-20 message
    }  # fmt: skip
    # the three copies of the example child share LA 201: a duplicate return each, validated file by file
    assert counts[("cin-2021.xml", "duplicate_return")] == counts[("cin-2022.xml", "duplicate_return")] == 1
    assert {r for (f, r) in counts if f == "cin-2021.xml"} - one_child == {"duplicate_return"}


def test_console_script_exit_codes_and_formats(tmp_path: Path) -> None:
    clean, queries = tmp_path / "clean", tmp_path / "queries"
    clean.mkdir()
    queries.mkdir()
    (clean / "845.xml").write_text(CLEAN_XML)
    death_outside = next(f for f in FAULTS if f.rule == "8545Q")
    (queries / "845.xml").write_bytes(faulty_xml(death_outside))
    script = Path(sys.executable).with_name("cin-validate")
    ok = subprocess.run([script, str(clean)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and ok.stdout.strip() == ",".join(cli.COLUMNS)
    assert "0 errors, 0 queries" in ok.stderr
    q = subprocess.run(
        [script, str(queries), "--format", "json", "--year", "2020"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert q.returncode == 0
    assert [r["rule"] for r in json.loads(q.stdout)] == ["8545Q"]
    bad = subprocess.run(
        [script, str(SAMPLES / "fake_CIN_data.xml")], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1 and ",8831," in bad.stdout  # Year 2022: validated with the 2021-22 rules


def _return(folder: Path, la: str, edit: Callable[[str], str]) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{la}.xml").write_text(edit(CLEAN_XML.replace("<LEA>845", f"<LEA>{la}")))
    return f"{la}.xml"


def test_strict_values_and_structure_are_findings(tmp_path: Path) -> None:
    folder = tmp_path / "census"
    _return(folder, "201", lambda x: x.replace("<PersonBirthDate>2010-05-01", "<PersonBirthDate>2010-5-1"))
    _return(
        folder, "202", lambda x: x.replace("2019-05-01</CINreferralDate>", "+002019-05-01</CINreferralDate>")
    )
    _return(
        folder, "203", lambda x: x.replace("<LAchildID>C002</LAchildID>", "<LAchildID>C0<x/>02</LAchildID>")
    )
    _return(folder, "204", lambda x: x.replace("<Year>2020</Year>", "<Year>99999999999</Year>"))
    _return(folder, "205", lambda x: x.replace("<Content>", "<Child><ChildIdentifiers/></Child><Content>"))
    code, report = _run_json(tmp_path, str(folder))
    assert code == 1
    bad = report.filter(pl.col("rule").is_in(["bad_value", "misplaced_element", "year_unsupported"]))
    assert bad.sort("source_file", "line").select(
        "source_file", "rule", "LAchildID", "fields", "value", "line"
    ).rows() == [
        ("201.xml", "bad_value", "C001", "PersonBirthDate", "2010-5-1", 11),
        ("202.xml", "bad_value", "C001", "CINreferralDate", "+002019-05-01", 16),
        ("203.xml", "bad_value", None, "LAchildID", "C002", 33),
        ("204.xml", "year_unsupported", None, "Year", None, 3),
        ("204.xml", "bad_value", None, "Year", "99999999999", 4),
        ("205.xml", "misplaced_element", None, "Child", None, 8),
    ]
    assert all(name in msg for name, msg in bad.select("source_file", "message").iter_rows())
    assert {"8500"} <= set(report.filter(pl.col("source_file") == "203.xml")["rule"])  # the ID is missing
    as_2020 = cli.run([folder / "204.xml"], year=2020, workers=1)
    assert as_2020["rule"].to_list() == ["bad_value"]  # not also "the header says Year (missing)"


def test_exit_code_2_when_nothing_can_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no returns here")
    script = Path(sys.executable).with_name("cin-validate")
    empty = subprocess.run([script, str(tmp_path / "empty")], capture_output=True, text=True, check=False)
    assert empty.returncode == 2 and "no XML file found" in empty.stderr and empty.stdout == ""
    assert cli.main([str(tmp_path / "nowhere")]) == 2
    _return(tmp_path / "one", "845", lambda x: x)
    assert cli.main([str(tmp_path / "one"), "--rule", "8820", "--rule", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err
    assert cli.main([str(tmp_path / "one"), "--output", str(tmp_path / "missing_dir" / "r.csv")]) == 2
    assert cli.main([str(tmp_path / "one"), "--workers", "1"]) == 0


def test_output_is_replaced_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _return(tmp_path / "census", "845", lambda x: x.replace("<Year>2020</Year>", "<Year>2019</Year>"))
    out = tmp_path / "out" / "report.csv"
    out.parent.mkdir()
    out.write_text("the previous report\n")
    real = Path.write_text

    def disk_full(self: Path, data: str, *args: object, **kwargs: object) -> int:
        real(self, data[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", disk_full)
    assert cli.main([str(tmp_path / "census"), "--output", str(out), "--workers", "1"]) == 2
    assert out.read_text() == "the previous report\n"
    assert [p.name for p in out.parent.iterdir()] == ["report.csv"]  # no temp file left behind
    monkeypatch.undo()
    assert cli.main([str(tmp_path / "census"), "--output", str(out), "--workers", "1"]) == 1
    assert pl.read_csv(out).height == cli.run([tmp_path / "census"], workers=1).height > 0


def test_list_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--list-rules"]) == 0
    listed = pl.read_csv(io.StringIO(capsys.readouterr().out), schema_overrides={"rule": pl.String})
    by_code = {r["rule"]: r for r in listed.iter_rows(named=True)}
    latest = {r.code: r for y in range(2013, 2027) for r in ruleset(y).rules}  # every year's rules
    assert len(by_code) == listed.height == len(latest) + len(CHECKS)
    for code, rule in latest.items():
        assert (by_code[code]["type"], by_code[code]["message"]) == (rule.type, rule.message)
    assert (by_code["4000"]["first_year"], by_code["1570"]["first_year"]) == (2022, 2025)
    assert by_code["8820"]["message"] == "The dates on the CIN episodes for this child overlap"
    assert by_code["8545Q"]["type"] == "query" and by_code["bad_value"]["category"] == "value"
    # every code a report can carry is listed: the hostile files, the faults, a missing path
    folder = tmp_path / "2020"
    folder.mkdir()
    _write_hostile(folder)
    for fault, la in zip(FAULTS + VALUE_FAULTS, LAS_2020[20:], strict=False):
        (folder / f"{la}.xml").write_bytes(faulty_xml(fault, lea=la))
    report = cli.run([folder, tmp_path / "missing.xml"], workers=1)
    assert set(report["rule"]) - set(by_code) == set()
    assert cli.main(["--list-rules", "--year", "2020", "--format", "json"]) == 0
    assert {r["rule"] for r in json.loads(capsys.readouterr().out)} == set(ruleset(2020).codes) | set(CHECKS)


def test_rule_option_runs_only_those_rules(tmp_path: Path) -> None:
    folder = tmp_path / "census"
    folder.mkdir()
    chosen = ("8820", "8545Q", "1520")
    for fault, la in zip(FAULTS, LAS_2020, strict=False):
        (folder / f"{la}.xml").write_bytes(faulty_xml(fault, lea=la))
    (folder / "broken.xml").write_text("<Message><Header>")
    code, report = _run_json(tmp_path, str(folder), "--rule", "8820", "--rule", "8545Q", "--rule", "1520")
    assert code == 1
    assert set(report["rule"]) == {*chosen, "xml_syntax"}  # file faults always shown
    full = cli.run([folder], workers=1).filter(pl.col("rule").is_in(chosen))
    assert report.filter(pl.col("rule") != "xml_syntax").height == full.height > 3
    code, queries = _run_json(
        tmp_path,
        str(folder / f"{LAS_2020[FAULTS.index(next(f for f in FAULTS if f.rule == '8545Q'))]}.xml"),
        "--rule",
        "8545Q",
    )
    assert code == 0 and queries["rule"].to_list() == ["8545Q"]
    assert cli.main([str(folder / "broken.xml"), "--fail-on", "query"]) == 1


def test_tables_option_writes_the_flattened_tables(tmp_path: Path) -> None:
    folder = tmp_path / "census" / "2020"
    _return(folder, "845", lambda x: x)
    _return(folder, "846", lambda x: x.replace("<PersonBirthDate>2010-05-01", "<PersonBirthDate>2010-5-1"))
    out = tmp_path / "tables"
    code = cli.main(
        [
            str(tmp_path / "census"),
            "--tables",
            str(out),
            "--workers",
            "1",
            "--output",
            str(tmp_path / "r.csv"),
        ]
    )
    assert code == 1
    expected = reader.read_returns(sorted(folder.glob("*.xml")), workers=1)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{t}.{x}" for t in expected for x in ("csv", "parquet")
    )
    for name, frame in expected.items():
        assert_frame_equal(pl.read_parquet(out / f"{name}.parquet"), frame)
        csv = pl.read_csv(out / f"{name}.csv", schema=frame.schema)
        assert_frame_equal(csv, frame)
    children = pl.read_parquet(out / "children.parquet")
    assert (
        children.height == 16 and children["PersonBirthDate"].null_count() == 3
    )  # C003 unborn twice, 846's C001
    assert pl.read_parquet(out / "issues.parquet")["value"].to_list() == ["2010-5-1"]
    again = tmp_path / "again"
    assert (
        cli.main([str(tmp_path / "census"), "--tables", str(again), "--output", str(tmp_path / "r2.csv")])
        == 1
    )
    assert all((again / p.name).read_bytes() == p.read_bytes() for p in out.iterdir())  # deterministic
