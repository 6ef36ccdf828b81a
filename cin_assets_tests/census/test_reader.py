"""The census reader on the public samples, on every repeated element, and on hostile or broken input."""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path

import polars as pl
import pytest

from cin_assets.census import reader, tables
from cin_assets.census.reader import census_files, read_return, read_returns

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<Message>
  <Header>
    <CollectionDetails><Collection>CIN</Collection><Year>2020</Year>
      <ReferenceDate>2020-03-31</ReferenceDate></CollectionDetails>
    <Source><SourceLevel>L</SourceLevel><LEA>845</LEA><SoftwareCode>x</SoftwareCode>
      <Release>1</Release><SerialNo>001</SerialNo><DateTime>2020-05-01T10:00:00</DateTime></Source>
    <Content><CBDSLevels><CBDSLevel>Child</CBDSLevel></CBDSLevels></Content>
  </Header>
  <Children>
"""
FOOTER = "  </Children>\n</Message>\n"

CHILD = """
    <Child>
      <ChildIdentifiers>
        <LAchildID>{cid}</LAchildID>
        <PersonBirthDate>{dob}</PersonBirthDate>
        <GenderCurrent>2</GenderCurrent>
      </ChildIdentifiers>
      <ChildCharacteristics>
        <Ethnicity>WBRI</Ethnicity>
        <Disabilities><Disability>NONE</Disability></Disabilities>
      </ChildCharacteristics>
      <CINdetails>
        <CINreferralDate>2019-05-01</CINreferralDate>
        <ReferralSource>6</ReferralSource>
        <PrimaryNeedCode>N1</PrimaryNeedCode>
        <Assessments>
          <AssessmentActualStartDate>2019-05-02</AssessmentActualStartDate>
          <AssessmentAuthorisationDate>2019-06-01</AssessmentAuthorisationDate>
          <FactorsIdentifiedAtAssessment>
            <AssessmentFactors>3B</AssessmentFactors><AssessmentFactors>4B</AssessmentFactors>
          </FactorsIdentifiedAtAssessment>
        </Assessments>
        <Assessments>
          <AssessmentActualStartDate>2019-09-02</AssessmentActualStartDate>
          <FactorsIdentifiedAtAssessment/>
        </Assessments>
        <Section47>
          <S47ActualStartDate>2019-05-03</S47ActualStartDate>
          <InitialCPCtarget>2019-05-24</InitialCPCtarget>
          <DateOfInitialCPC>2019-05-20</DateOfInitialCPC>
          <ICPCnotRequired>{icpc_flag}</ICPCnotRequired>
        </Section47>
        <ReferralNFA>false</ReferralNFA>
        <ChildProtectionPlans>
          <CPPstartDate>2019-05-20</CPPstartDate>
          <InitialCategoryOfAbuse>NEG</InitialCategoryOfAbuse>
          <LatestCategoryOfAbuse>EMO</LatestCategoryOfAbuse>
          <NumberOfPreviousCPP>0</NumberOfPreviousCPP>
          <Reviews>
            <CPPreviewDate>2019-08-19</CPPreviewDate>
            <CPPreviewDate>2020-02-17</CPPreviewDate>
            <CPPreviewDate>2020-03-02</CPPreviewDate>
          </Reviews>
        </ChildProtectionPlans>
      </CINdetails>
      <CINdetails>
        <CINreferralDate>2019-04-02</CINreferralDate>
        <ReferralSource>1A</ReferralSource>
        <CINclosureDate>2019-04-20</CINclosureDate>
        <ReasonForClosure>RC7</ReasonForClosure>
        <ReferralNFA>1</ReferralNFA>
      </CINdetails>
    </Child>"""


def write_return(path: Path, children: str, header: str = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + children + FOOTER, encoding="utf-8")
    return path


def child(cid: str = "C1", dob: str = "2010-01-01", icpc_flag: str = "false") -> str:
    return CHILD.format(cid=cid, dob=dob, icpc_flag=icpc_flag)


def test_public_samples_parse_with_the_right_counts() -> None:
    fake = read_return(SAMPLES / "fake_CIN_data.xml")
    # Counted by hand in the file: 332 <Child>, 402 <CINdetails> (all NFA), 117 <Disability>.
    assert fake["children"].height == 332
    assert fake["episodes"].height == 402
    assert fake["episodes"]["ReferralNFA"].all()
    assert fake["disabilities"].height == 117
    assert fake["issues"].is_empty()
    assert fake["headers"]["LEA"].to_list() == ["975"]

    for name in ("cin-2021.xml", "cin-2022.xml", "CIN_Census_2021.xml"):
        one = read_return(SAMPLES / name)
        assert {t: one[t].height for t in tables.CHILD_TABLES} == {
            "children": 1,
            "disabilities": 2,
            "episodes": 1,
            "assessments": 1,
            "assessment_factors": 2,
            "cin_plans": 0 if name == "cin-2021.xml" else 1,  # CIN plans from 2021-22
            "section47": 1,
            "cpps": 1,
            "cpp_reviews": 1,
        }, name
        assert one["children"]["LAchildID"].to_list() == ["DfEX0000001"]
        assert one["assessment_factors"]["AssessmentFactors"].to_list() == ["2A", "2B"]
        assert one["cpps"]["NumberOfPreviousCPP"].to_list() == [10]
    cin2021 = read_return(SAMPLES / "cin-2021.xml")
    assert cin2021["headers"].row(0, named=True)["has_content_block"] is False
    assert cin2021["children"].row(0, named=True)["PersonBirthDate"] == dt.date(1966, 3, 24)
    # "0" is a valid boolean spelling (rule 8568)
    assert read_return(SAMPLES / "CIN_Census_2021.xml")["episodes"]["ReferralNFA"].to_list() == [False]


def test_every_repeated_element_is_read(tmp_path: Path) -> None:
    out = read_return(write_return(tmp_path / "2020" / "845.xml", child("A") + child("B")), year=2020)
    for name, frame in out.items():
        assert frame.schema == pl.Schema(tables.SCHEMAS[name]), name
    assert out["headers"].row(0, named=True)["has_content_block"] is True
    assert out["children"].height == 2
    assert out["episodes"].height == 4
    assert out["episodes"].filter(pl.col("LAchildID") == "A")["episode_id"].to_list() == [1, 2]
    assert out["episodes"]["ReferralNFA"].to_list() == [False, True, False, True]
    assert out["assessments"].height == 4
    assert out["assessments"]["assessment_id"].to_list() == [1, 2, 1, 2]
    assert out["assessment_factors"].height == 4  # the empty factors wrapper is tolerated
    assert out["cpp_reviews"].height == 6  # all three review dates of each plan, not only the first
    assert out["cpp_reviews"]["review_id"].to_list() == [1, 2, 3, 1, 2, 3]
    assert out["cpps"]["CPPendDate"].null_count() == 2
    assert set(out["children"]["la_code"]) == {"845"}
    assert set(out["children"]["reporting_year"]) == {2020}
    assert out["issues"].is_empty()


def test_bad_values_become_null_and_are_reported(tmp_path: Path) -> None:
    bad = child("X", dob="2010-02-31", icpc_flag="maybe")
    out = read_return(write_return(tmp_path / "2020" / "845.xml", bad), year=2020)
    assert out["children"]["PersonBirthDate"].to_list() == [None]
    assert out["section47"]["ICPCnotRequired"].to_list() == [None]
    issues = out["issues"].sort("element")
    assert issues["element"].to_list() == ["ICPCnotRequired", "PersonBirthDate"]
    assert set(issues["LAchildID"]) == {"X"}
    assert issues["line"].null_count() == 0
    assert all("845.xml" in m for m in issues["message"])


def test_header_for_another_year_or_la_is_reported(tmp_path: Path) -> None:
    out = read_return(write_return(tmp_path / "2019" / "846.xml", child()), year=2019)
    assert sorted(out["issues"]["code"]) == ["header_lea", "header_year"]
    assert out["children"].height == 1  # still read: the validation report decides what to do with it
    # the file's place keeps its figures: a header naming LEA 845 never moves them to 845
    assert out["children"]["la_code"].to_list() == ["846"]
    assert out["headers"]["la_code"].to_list() == ["846"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (
            '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            "\n<Message><Children><Child><ChildIdentifiers><LAchildID>&lol2;</LAchildID></ChildIdentifiers>"
            "</Child></Children></Message>",
            "dtd_refused",
        ),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            "<Message><Children><Child><ChildIdentifiers><LAchildID>&xxe;</LAchildID></ChildIdentifiers>"
            "</Child></Children></Message>",
            "dtd_refused",
        ),
        ("", "empty_file"),
        ("<Other><Children/></Other>", "wrong_root"),
        ("just text, no markup", "xml_syntax"),
    ],
)
def test_hostile_and_broken_files_are_refused_with_a_clear_error(
    tmp_path: Path, content: str, code: str
) -> None:
    path = tmp_path / "2020" / "845.xml"
    path.parent.mkdir(parents=True)
    path.write_text(content)
    out = read_return(path, year=2020)
    assert out["issues"]["code"].to_list() == [code]
    assert out["issues"]["severity"].to_list() == ["error"]
    assert "845.xml" in out["issues"]["message"][0]
    assert all(out[t].is_empty() for t in tables.CHILD_TABLES)


def test_entity_reference_without_dtd_is_not_expanded(tmp_path: Path) -> None:
    text = child("&undefined;")
    out = read_return(write_return(tmp_path / "2020" / "845.xml", text), year=2020)
    assert out["issues"]["code"].to_list() == ["xml_syntax"]
    assert out["children"].is_empty()


def test_oversized_file_is_refused_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "2020" / "845.xml"
    path.parent.mkdir(parents=True)
    with path.open("wb") as fh:  # a sparse 3 GiB file: instant to make, never read
        fh.truncate(3 * 1024**3)
    out = read_return(path, year=2020)
    assert out["issues"]["code"].to_list() == ["file_too_large"]
    assert "3.0 GiB" in out["issues"]["message"][0]


def test_truncated_return_is_reported_while_the_other_las_load(tmp_path: Path) -> None:
    good = [
        write_return(tmp_path / "2020" / f"{la}.xml", child("A"), HEADER.replace("845", la))
        for la in ("846", "850")
    ]
    truncated = write_return(tmp_path / "2020" / "845.xml", child("A") + child("B"))
    truncated.write_text(truncated.read_text()[:-400])
    out = read_returns(census_files(tmp_path, 2020), year=2020, workers=2)
    assert [p.name for p in census_files(tmp_path, 2020)] == ["845.xml", "846.xml", "850.xml"]
    assert sorted(out["children"]["la_code"].to_list()) == ["846", "850"]
    issue = out["issues"].row(0, named=True)
    assert out["issues"].height == 1
    assert issue["code"] == "xml_syntax" and issue["source_file"] == "845.xml" and issue["line"] > 1
    assert {g.name for g in good} == {"846.xml", "850.xml"}


def test_two_returns_for_one_la_are_reported(tmp_path: Path) -> None:
    write_return(tmp_path / "2020" / "845.xml", child("A"))
    write_return(tmp_path / "2020" / "845_resubmitted.xml", child("A"))
    out = read_returns(census_files(tmp_path, 2020), year=2020, workers=1)
    assert out["issues"].filter(pl.col("code") == "duplicate_return")["source_file"].to_list() == [
        "845_resubmitted.xml"
    ]


def test_dtd_hidden_after_a_long_comment_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "2020" / "845.xml"
    path.parent.mkdir(parents=True)
    path.write_text(
        '<?xml version="1.0"?>\n<!--'
        + "x" * 10_000
        + '-->\n<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        + (HEADER + child("&xxe;") + FOOTER).split("\n", 1)[1]
    )
    out = read_return(path, year=2020)
    assert out["issues"]["code"].to_list() == ["dtd_refused"]
    assert all(out[t].is_empty() for t in tables.CHILD_TABLES)


@pytest.mark.parametrize("batch_chars", [1, 4_000_000])
def test_many_returns_read_together_match_each_read_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_chars: int
) -> None:
    # read_returns types all files (in batches) at once: rows, bad-value issues and their order per file
    # must be exactly those of reading each file alone
    monkeypatch.setattr(reader, "_BATCH_CHARS", batch_chars)
    write_return(tmp_path / "2020" / "845.xml", child("A", dob="2010-02-31") + child("B"))
    write_return(tmp_path / "2020" / "846.xml", child("C"), HEADER.replace("845", "846"))
    header_2019 = HEADER.replace("845", "850").replace("<Year>2020", "<Year>2019")
    write_return(tmp_path / "2020" / "850.xml", child("D", icpc_flag="maybe"), header_2019)
    (tmp_path / "2020" / "851.xml").write_text("")
    files = census_files(tmp_path, 2020)
    together = read_returns(files, year=2020, workers=1)
    alone = [read_return(f, year=2020) for f in files]
    for name in tables.TABLES:
        assert together[name].equals(pl.concat([a[name] for a in alone])), name
    assert together["issues"]["source_file"].to_list() == ["845.xml", "850.xml", "850.xml", "851.xml"]
    assert together["issues"]["code"].to_list() == ["bad_value", "header_year", "bad_value", "empty_file"]


def test_wrong_root_is_refused_before_its_children_are_read(tmp_path: Path) -> None:
    path = write_return(tmp_path / "2020" / "845.xml", child("A"))
    path.write_text(path.read_text().replace("Message>", "Other>"))
    out = read_return(path, year=2020)
    assert out["issues"]["code"].to_list() == ["wrong_root"]
    assert all(out[t].is_empty() for t in tables.CHILD_TABLES)


def test_garbage_collection_is_resumed_after_every_read(tmp_path: Path) -> None:
    good = write_return(tmp_path / "2020" / "845.xml", child("A"))
    broken = tmp_path / "2020" / "846.xml"
    broken.write_text(good.read_text()[:-300])
    for path in (good, broken):
        read_return(path, year=2020)
        assert gc.isenabled()


def test_dates_must_be_iso(tmp_path: Path) -> None:
    path = write_return(
        tmp_path / "2020" / "845.xml", child("A", dob="2010-6-1") + child("B", dob="+002010-06-01")
    )
    out = read_return(path, year=2020)
    assert out["children"]["PersonBirthDate"].to_list() == [None, None]
    issues = out["issues"]
    assert issues.select("code", "LAchildID", "element", "value").rows() == [
        ("bad_value", "A", "PersonBirthDate", "2010-6-1"),
        ("bad_value", "B", "PersonBirthDate", "+002010-06-01"),
    ]
    assert all(m.startswith("845.xml: child ") and "YYYY-MM-DD" in m for m in issues["message"])


def test_header_reference_date_must_be_iso(tmp_path: Path) -> None:
    header = HEADER.replace("<ReferenceDate>2020-03-31", "<ReferenceDate>2020-3-31")
    out = read_return(write_return(tmp_path / "2020" / "845.xml", child("A"), header), year=2020)
    assert out["headers"]["ReferenceDate"].to_list() == [None]
    assert out["issues"].select("code", "element", "value", "line").rows() == [
        ("bad_value", "ReferenceDate", "2020-3-31", 5)
    ]


def test_value_with_an_element_inside_is_reported_not_cut(tmp_path: Path) -> None:
    text = child("AB<x/>CD") + child("C").replace(
        "<Disability>NONE</Disability>", "<Disability>HA<b>N</b>D</Disability>"
    )
    out = read_return(write_return(tmp_path / "2020" / "845.xml", text), year=2020)
    assert out["children"]["LAchildID"].to_list() == [None, "C"]  # never "AB"
    assert out["disabilities"]["Disability"].to_list() == ["NONE", None]
    issues = out["issues"].select("code", "LAchildID", "element", "value", "line")
    assert issues.rows() == [
        ("bad_value", None, "LAchildID", "ABCD", out["children"]["line"][0]),
        ("bad_value", "C", "Disability", "HAND", out["disabilities"]["line"][1]),
    ]
    assert "<x>" in out["issues"]["message"][0]


def test_absurd_header_year_is_a_finding(tmp_path: Path) -> None:
    header = HEADER.replace("<Year>2020</Year>", "<Year>99999999999</Year>")
    path = write_return(tmp_path / "845.xml", child("A"), header)
    for out in (read_return(path), read_returns([path, path], workers=1)):
        assert out["headers"]["Year"].to_list()[0] is None
        year = out["issues"].filter(pl.col("element") == "Year").row(0, named=True)
        assert (year["code"], year["value"], year["line"]) == ("bad_value", "99999999999", 4)
    assert read_return(path, year=2020)["issues"]["code"].to_list() == ["bad_value"]


def test_misplaced_child_or_header_is_a_structural_error(tmp_path: Path) -> None:
    inside = HEADER.replace("<Content>", child("H") + "<Content>")
    out = read_return(write_return(tmp_path / "2020" / "845.xml", child("A"), inside), year=2020)
    assert out["children"]["LAchildID"].to_list() == ["A"]
    assert out["headers"].select("LEA", "Year", "has_content_block").row(0) == ("845", 2020, True)
    issue = out["issues"].row(0, named=True)
    assert out["issues"].height == 1
    assert (issue["code"], issue["severity"], issue["element"], issue["line"]) == (
        "misplaced_element", "error", "Child", 9,
    )  # fmt: skip
    assert "inside <Header>" in issue["message"]
    nested = child("A").replace("</Child>", child("N") + "</Child>")
    block = HEADER[HEADER.index("<Header>") : HEADER.index("</Header>") + len("</Header>")]
    twice = HEADER.replace("</Header>", "</Header>" + block.replace("845", "999"))
    out = read_return(write_return(tmp_path / "2020" / "846.xml", nested, twice), 2020)
    assert out["issues"].select("code", "element").rows() == [
        ("misplaced_element", "Header"),
        ("misplaced_element", "Child"),
        ("header_lea", "LEA"),
    ]
    assert out["headers"]["LEA"].to_list() == ["845"]  # the first Header, not the second
    assert out["children"]["LAchildID"].to_list() == ["A"]


def test_repeated_child_id_keeps_every_episode(tmp_path: Path) -> None:
    out = read_return(write_return(tmp_path / "2020" / "845.xml", child("A") + child("B") + child("A")), 2020)
    episodes = out["episodes"].filter(pl.col("LAchildID") == "A")
    assert episodes["episode_id"].to_list() == [1, 2, 3, 4]
    assert episodes.select("reporting_year", "la_code", "LAchildID", "episode_id").is_unique().all()
    for table in ("assessments", "section47", "cpps", "cpp_reviews"):
        ids = out[table].filter(pl.col("LAchildID") == "A")["episode_id"].unique().sort().to_list()
        assert ids == [1, 3], table  # each record's first episode holds the modules


def test_header_findings_carry_their_line(tmp_path: Path) -> None:
    out = read_return(write_return(tmp_path / "2019" / "846.xml", child()), year=2019)
    assert out["headers"]["line"].to_list() == [3]
    lines = dict(out["issues"].select("code", "line").iter_rows())
    assert lines == {"header_year": 4, "header_lea": 6}
