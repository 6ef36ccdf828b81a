"""Return completeness as a statistics team meets it: faults injected into one year of a small generated
census, the year blocked by the inventory check, then published under the team's declarations and the
exclude-LA validation policy. Assertions are on the Dagster check results and the published files."""

import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

import cin_assets.defs.publish as publish_defs
from cin_assets.census import exceptions
from cin_assets.datasets.catalogue import DATASETS
from cin_assets.defs import inventory
from cin_assets.defs.resources import OutputProfile
from cin_assets.synth import generate_census
from cin_assets_tests.defs.pipeline import (
    RELEASE,
    YEAR,
    check_evaluation,
    materialised,
    published_files,
    refused_release,
    run,
)
from cin_assets_tests.reference_subset import expect_only

PROJECT = Path(__file__).resolve().parents[2]
# all Inner London but East Sussex (845, South East)
LAS = ["204", "206", "208", "209", "210", "211", "212", "845"]
CLEAN = ["210", "845"]  # counted in 2020
WITHHELD = ["204", "206", "208", "209", "211", "212"]  # not available in 2020
INNER_LONDON, SOUTH_EAST, ENGLAND = "E13000001", "E12000008", "E92000001"
B1 = DATASETS["B1"]
COUNTS = [i.name for i in B1.indicators if i.unit == "count"]
HOSTILE = '<?xml version="1.0"?>\n<!DOCTYPE m [<!ENTITY a "aaaa">]>\n<Message>&a;</Message>\n'


def _root(tmp: Path) -> Path:
    root = tmp / "data"
    expect_only(root, LAS)
    generate_census(root / "census", [2019, 2020], scale=0.02, seed=4, las=LAS, workers=1)
    return root


def _inject_faults(folder: Path) -> None:
    (folder / "204.xml").unlink()  # missing
    (folder / "206.xml").write_text(HOSTILE)  # refused: declares entities
    shutil.copy(folder / "208.xml", folder / "208 copy.xml")  # duplicate
    for la, old, new in (
        ("209", "<LEA>209</LEA>", "<LEA>210</LEA>"),
        ("211", "<Year>2020</Year>", "<Year>2019</Year>"),
    ):
        path = folder / f"{la}.xml"
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))
    # a DfE validation error (gender code 7): counted under `count`, excluded under `exclude_las`
    path = folder / "212.xml"
    path.write_text(
        path.read_text().replace("<GenderCurrent>1</GenderCurrent>", "<GenderCurrent>7</GenderCurrent>", 1)
    )


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory):
    root = _root(tmp_path_factory.mktemp("inventory"))
    instance = dg.DagsterInstance.ephemeral()
    clean = run(root, instance, YEAR, "2019")
    _inject_faults(root / "census" / "2020")
    blocked = run(root, instance, YEAR, "2020")
    # the team declares what to publish: four LAs in the versioned file, Hackney in the launchpad config
    (root / exceptions.FILE_NAME).write_text(
        "reporting_year,la_code,action,note\n"
        + "".join(f"2020,{la},not_available,test\n" for la in ("206", "208", "209", "211"))
    )
    config = {"reporting_year": 2020, "la_code": "204", "action": "carry_forward", "note": "cyber attack"}
    declared = run(
        root,
        instance,
        YEAR,
        "2020",
        policy="exclude_las",
        run_config={"ops": {"census_inventory": {"config": {"declarations": [config]}}}},
    )
    (root / "census" / "2018").mkdir()
    empty = run(root, instance, YEAR, "2018")
    release = run(root, instance, RELEASE)
    return root, clean, blocked, declared, empty, release, instance


def _check(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    return check_evaluation(result, inventory.COMPLETE_CHECK)


def test_a_clean_year_passes_the_inventory_check(trial) -> None:
    _, clean, *_ = trial
    assert clean.success and _check(clean).passed
    metadata = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in clean.get_asset_materialization_events()
    }
    table = metadata["census_inventory"]["inventory"].value
    assert [r.data["status"] for r in table.records] == ["loaded"] * len(LAS)
    assert all(r.data["children"] > 0 and r.data["bytes"] > 0 for r in table.records)


def test_each_undeclared_fault_blocks_the_year_naming_the_files(trial) -> None:
    _, _, blocked, *_ = trial
    check = _check(blocked)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["la_codes"].value == "204, 206, 208, 209, 211"
    problems = check.metadata["problems"].value
    assert "204 missing: no return: census/2020/204.xml does not exist" in problems
    assert "206 refused: 206.xml: the file declares a DTD" in problems
    assert "208 duplicate: 2 files for one LA: 208 copy.xml, 208.xml" in problems
    assert "209 header_mismatch: 209.xml: the header says LEA 210" in problems
    assert "211 header_mismatch: 211.xml: the header says Year 2019" in problems
    # blocking: nothing downstream of the inventory ran, so nothing of 2020 can be published
    done = materialised(blocked)
    assert "census_inventory" in done
    assert not any(k.startswith(("counting_basis", "measure_", "protected_")) for k in done)


def _published(root: Path) -> pl.DataFrame:
    """The published B1 file, its columns named as in the description (the ees profile lower-cases them)."""
    (path,) = [p for p in (root / "published").glob("b1_*.csv") if not p.name.endswith(".meta.csv")]
    names = {i.name.lower(): i.name for i in B1.indicators}
    frame = pl.read_csv(path, infer_schema=False)
    return frame.rename({c: names[c] for c in frame.columns if c in names})


def _measure(root: Path, year: int) -> pl.DataFrame:
    return pl.read_parquet(root / "staging" / "measure_b1" / f"{year}.parquet")


def _la_values(frame: pl.DataFrame, las: list[str]) -> dict[str, int]:
    rows = frame.filter(pl.col("old_la_code").is_in(las) & (pl.col("geographic_level") == "Local authority"))
    assert rows.height == len(las)
    return {c: int(rows[c].sum()) for c in COUNTS}


def _rounded(value: int) -> str:
    return str((value + 5) // 10 * 10)


def test_declared_exceptions_publish_not_available_and_totals_from_counted_returns(trial) -> None:
    root, _, _, declared, _, release, _ = trial
    assert declared.success and _check(declared).passed
    assert release.success
    published = _published(root).filter(pl.col("time_period") == "2020")
    symbol = OutputProfile().profile.not_available  # the output profile's symbol (x in today's EES)
    for la in WITHHELD:
        (row,) = published.filter(pl.col("old_la_code") == la).select(i.name for i in B1.indicators).rows()
        assert set(row) == {symbol}, f"LA {la} must be not available, never 0: {row}"
    # the LAs that returned keep their own figures; nothing moved to 210 from the 209 file naming it
    measured = _measure(root, 2020)
    for la in CLEAN:
        assert _la_values(measured, [la]) == _la_values(_clean_measure(root, la), [la])
    # England and regions: the counted returns plus Hackney's 2019 figures (carry_forward), never 0
    carried = _la_values(_measure(root, 2019), ["204"])
    counted = _la_values(measured, CLEAN)
    inner = _la_values(measured, ["210"])
    for geo, expected in (
        (ENGLAND, {c: counted[c] + carried[c] for c in COUNTS}),
        (INNER_LONDON, {c: inner[c] + carried[c] for c in COUNTS}),
        (SOUTH_EAST, _la_values(measured, ["845"])),
    ):
        level = "National" if geo == ENGLAND else "Regional"
        row = measured.filter(
            (pl.col("geographic_level") == level) & (pl.col("region_code").fill_null(ENGLAND) == geo)
        )
        assert {c: int(row[c].item()) for c in COUNTS} == expected, geo
        cells = published.filter(
            (pl.col("geographic_level") == level) & (pl.col("region_code").fill_null(ENGLAND) == geo)
        )
        for c in COUNTS:
            assert cells[c].item() in (_rounded(expected[c]), publish_defs.SYMBOLS.suppressed), (geo, c)
        assert cells["Anypoint_child"].item() == _rounded(expected["Anypoint_child"])
        # a rate needs every child of the population: not available where an LA is not counted
        rate = cells["Anypoint_child_rate"].item()
        assert rate == symbol if geo != SOUTH_EAST else rate.replace(".", "").isdigit(), (geo, rate)


def _clean_measure(root: Path, la: str) -> pl.DataFrame:
    """B1 2020 built straight from the LA's own untouched return (the domain functions, no Dagster)."""
    from cin_assets.census.reader import read_returns
    from cin_assets.measures import build_all

    tables = read_returns([root / "census" / "2020" / f"{la}.xml"], year=2020, workers=1)
    return build_all({"B1": B1}, 2020, tables, ref=root / "reference")["B1"]


def test_guidance_and_metadata_state_the_policy_and_every_declaration(trial) -> None:
    root, _, _, declared, _, _release, _ = trial
    text = (root / "published" / publish_defs.GUIDANCE_FILE).read_text()
    assert "Validation policy `exclude_las` (2020)" in text
    assert "Validation policy `count` (2019)" in text
    assert "2020: Hackney (204) (return missing), declared carry forward." in text
    assert "England and regional figures include its 2019 figures in their place." in text
    assert "2020: Islington (206) (return refused), declared not available." in text
    assert "2020: Lambeth (208) (return duplicate), declared not available." in text
    assert "2020: Wandsworth (212), excluded by the 'exclude_las' validation policy." in text
    metadata = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in declared.get_asset_materialization_events()
    }
    assert metadata["counting_basis"]["validation policy"].value == "exclude_las"
    assert metadata["counting_basis"]["applied"].value == (
        "204 carry_forward from 2019, 206 not_available, 208 not_available, 209 not_available, "
        "211 not_available, 212 excluded_by_policy"
    )
    assert metadata["census_inventory"]["declared exceptions"].value == (
        "204 carry_forward, 206 not_available, 208 not_available, 209 not_available, 211 not_available"
    )


def test_a_year_with_no_returns_fails_and_is_never_published(trial) -> None:
    root, _, _, _, empty, release, _ = trial
    assert not empty.success
    (failure,) = [e for e in empty.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "census_returns"
    assert "no census return in" in str(failure.event_specific_data.error)
    assert release.success
    assert sorted(_published(root)["time_period"].unique()) == ["2019", "2020"]


def test_a_blocked_rerun_keeps_its_old_protected_files_out_of_the_next_release(trial) -> None:
    """A corrected census for 2019 arrives with one return missing: the rerun is blocked, so 2019's
    protected files are those of the earlier returns. A release must then refuse, not publish them as if
    they were the returns in the folder now (runs last: it changes the module's census)."""
    root, *_, instance = trial
    before = published_files(root)
    (root / "census" / "2019" / "845.xml").unlink()
    blocked = run(root, instance, YEAR, "2019")
    assert not _check(blocked).passed and "protected_b1" not in materialised(blocked)
    message = refused_release(root, instance)
    assert "publication blocked: the protected files of 2019" in message and "rerun those years" in message
    assert published_files(root) == before
