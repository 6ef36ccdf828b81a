"""The look-back as a statistics team meets it: year 2019 materialised, then one LA's 2019 return deleted
and another's corrupted on disk, and 2020 rerun. The rerun is blocked by the look-back check, naming the
year, the LAs, the files and why; with the team's declaration the LA's re-referrals are published not
available and England's re-referral percentage divides the others' by every referral, as DfE's releases
do, the guidance saying so. Successor LAs: Cumberland and Westmorland and Furness (2024) count their
first-year re-referrals within their own returns, as DfE did, or, declared so, look back on Cumbria's 2023
return; Dorset and BCP (2020) are not available, as DfE published them.
Assertions are on the Dagster check results and run status and on the published files."""

import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from cin_assets.census import exceptions
from cin_assets.defs import lookback
from cin_assets.defs.publish import GUIDANCE_FILE
from cin_assets.synth import generate_census
from cin_assets_tests.defs.pipeline import (
    RELEASE,
    YEAR,
    check_evaluation,
    correct_return,
    materialised,
    published_files,
    refused_release,
    released_census,
    run,
)
from cin_assets_tests.reference_subset import expect_only

LAS = ["208", "845"]  # Lambeth (Inner London), East Sussex (South East)
ENGLAND, INNER_LONDON, LONDON, SOUTH_EAST = "E92000001", "E13000001", "E12000007", "E12000008"
HOSTILE = '<?xml version="1.0"?>\n<!DOCTYPE m [<!ENTITY a "aaaa">]>\n<Message>&a;</Message>\n'


def _c1(root: Path) -> pl.DataFrame:
    (path,) = [p for p in (root / "published").glob("c1_*.csv") if not p.name.endswith(".meta.csv")]
    return pl.read_csv(path, infer_schema=False).filter(pl.col("time_period") == "2020")


def _row(frame: pl.DataFrame, geo: str) -> dict[str, str]:
    code = pl.coalesce(pl.col("old_la_code"), pl.col("region_code"), pl.lit(ENGLAND))
    (row,) = frame.filter(code == geo).iter_rows(named=True)
    return row


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("lookback") / "data"
    expect_only(root, LAS)
    generate_census(root / "census", [2019, 2020], scale=0.02, seed=5, las=LAS, workers=1)
    instance = dg.DagsterInstance.ephemeral()
    first = run(root, instance, YEAR, "2019")
    # after 2019 was materialised: Lambeth's 2019 return is deleted, East Sussex's overwritten
    folder = root / "census" / "2019"
    kept = folder.parent / "845-2019.xml.bak"
    shutil.move(folder / "845.xml", kept)
    (folder / "845.xml").write_text(HOSTILE)
    (folder / "208.xml").unlink()
    blocked = run(root, instance, YEAR, "2020")
    shutil.move(kept, folder / "845.xml")  # East Sussex's file restored; Lambeth's is lost for good
    still_blocked = run(root, instance, YEAR, "2020")
    # the team declares Lambeth's 2019 return not available: its 2020 re-referrals cannot be looked back on
    (root / exceptions.FILE_NAME).write_text(
        "reporting_year,la_code,action,note\n2019,208,not_available,2019 return lost after publication\n"
    )
    declared = run(root, instance, YEAR, "2020")
    release = run(root, instance, RELEASE)
    ees = _c1(root)
    guidance = (root / "published" / GUIDANCE_FILE).read_text()
    release2020 = run(root, instance, RELEASE, profile="release2020")
    return root, first, blocked, still_blocked, declared, release, ees, guidance, release2020


def _check(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    return check_evaluation(result, lookback.LOOKBACK_CHECK)


def test_the_first_year_has_no_look_back_and_nothing_short(trial) -> None:
    _, first, *_ = trial
    assert first.success and _check(first).passed  # no 2018 census: nobody's look-back, nothing short
    assert _check(first).metadata["counted look-backs"].value == 0


def test_an_unusable_previous_return_blocks_the_year_naming_year_la_file_and_reason(trial) -> None:
    _, _, blocked, still_blocked, *_ = trial
    for result, las in ((blocked, "208, 845"), (still_blocked, "208")):
        check = _check(result)
        assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
        assert check.metadata["la_codes"].value == las
        problems = check.metadata["problems"].value
        assert (
            "[2020] LA 208 Lambeth: look-back to its 2019 return census/2019/208.xml is missing "
            "(no return: census/2019/208.xml does not exist)" in problems
        )
        # blocking: the year's counting basis, measures and protected files are not built
        assert not result.success
        done = materialised(result)
        assert "lookback_inventory" in done
        assert not any(k.startswith(("counting_basis", "measure_", "protected_")) for k in done)
    problems = _check(blocked).metadata["problems"].value
    assert (
        "[2020] LA 845 East Sussex: look-back to its 2019 return census/2019/845.xml is refused" in problems
    )
    assert "declares a DTD" in problems


def test_a_declared_previous_return_publishes_not_available_with_guidance(trial) -> None:
    root, _, _, _, declared, release, ees, guidance, release2020 = trial
    assert declared.success and _check(declared).passed and release.success
    assert _check(declared).metadata["counted look-backs"].value == 1
    assert _check(declared).metadata["declared"].value == "208 not_available"
    lambeth, east_sussex = _row(ees, "208"), _row(ees, "845")
    # Lambeth's look-back-dependent cells are not available (x in the ees profile), its others are not
    for column in ("rereferral_count", "rereferral_percent", "rereferral_child_count"):
        assert lambeth[column] == "x", column
    # (its referral count may be a secondary: with two LAs, East Sussex's NFA of 1 is protected through them)
    assert lambeth["referral_count"] != "x" and lambeth["referral_child_count"].isdigit()
    assert east_sussex["rereferral_count"] not in ("x", "0")
    # England counts East Sussex's re-referrals only (rounded to 10) and its percentages divide them by every
    # referral, Lambeth's included, as DfE's releases do (understated); London holds no LA looked back on
    measured = pl.read_parquet(root / "staging" / "measure_c1" / "2020.parquet")
    own = measured.filter(pl.col("old_la_code") == "845")
    assert own["Re_referrals"].item() > 0
    england = _row(ees, ENGLAND)
    assert england["rereferral_count"] == str((own["Re_referrals"].item() + 5) // 10 * 10)
    national = measured.filter(pl.col("geographic_level") == "National")
    assert national["Referrals"].item() > own["Referrals"].item()  # Lambeth's referrals are in England's
    for column, count, total in (
        ("rereferral_percent", "Re_referrals", "Referrals"),
        ("rereferral_child_percent", "Re_referrals_child", "Referrals_child"),
    ):
        expected = 100 * own[count].item() / national[total].item()
        assert float(england[column]) == pytest.approx(expected, abs=0.051), column
    for region in (INNER_LONDON, LONDON):
        assert _row(ees, region)["rereferral_count"] == "x" and _row(ees, region)["rereferral_percent"] == "x"
    # South East's percentage may be c: its referrals protect East Sussex's NFA of 1
    south_east = _row(ees, SOUTH_EAST)
    assert south_east["rereferral_count"].isdigit() and south_east["rereferral_percent"] != "x"
    assert (
        "2020: Lambeth (208): re-referrals are not available (its 2019 return was declared not available). "
        "England and regional re-referral counts include only the local authorities whose 2019 returns "
        "were looked back on, while their referrals include every local authority, so their re-referral "
        "percentages understate, as in DfE's releases." in guidance
    )
    # the 2020 release profile marks the same cells with its own symbol
    assert release2020.success
    old = _c1(root)
    assert _row(old, "208")["Re_referrals"] == ":" and _row(old, INNER_LONDON)["Re_referrals_percent"] == ":"
    assert float(_row(old, ENGLAND)["Re_referrals_percent"]) == float(england["rereferral_percent"])


def _c1_of(root: Path, year: int) -> pl.DataFrame:
    (path,) = [p for p in (root / "published").glob("c1_*.csv") if not p.name.endswith(".meta.csv")]
    return pl.read_csv(path, infer_schema=False).filter(pl.col("time_period") == str(year))


SPLIT = ["909", "942", "943"]  # Cumbria (to 2023), Cumberland and Westmorland and Furness (from 2024)
NORTH_WEST = "E12000002"


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory):
    """Cumbria 2023 and its successors 2024 released; then Cumbria's 2023 return is lost and 2024 rerun;
    then the team declares the successors' look-back on Cumbria (la_successors.csv, ``predecessors``) and
    reruns 2024 (blocked), restores the file and reruns 2024 and the release."""
    root = tmp_path_factory.mktemp("split") / "data"
    instance, years, release = released_census(root, SPLIT, [2023, 2024], scale=0.2)
    c1, guidance = _c1_of(root, 2024), (root / "published" / GUIDANCE_FILE).read_text()
    looked = pl.read_parquet(root / "staging" / "lookback_episodes" / "2024.parquet")
    measured = pl.read_parquet(root / "staging" / "measure_c1" / "2024.parquet")
    lost = root / "census" / "2023" / "909.xml"
    kept = lost.with_suffix(".bak")
    shutil.move(lost, kept)  # Cumbria's 2023 return lost after publication
    rerun = run(root, instance, YEAR, "2024")
    rerun_measured = pl.read_parquet(root / "staging" / "measure_c1" / "2024.parquet")
    table = root / "reference" / "la_successors.csv"
    table.write_text(table.read_text().replace("own_return", "predecessors"))
    broken = run(root, instance, YEAR, "2024")
    shutil.move(kept, lost)
    declared = run(root, instance, YEAR, "2024"), run(root, instance, RELEASE)
    declared_c1 = pl.read_parquet(root / "staging" / "measure_c1" / "2024.parquet")
    declared_guidance = (root / "published" / GUIDANCE_FILE).read_text()
    return (
        (root, years, release, c1, guidance, looked, measured),
        (rerun, rerun_measured),
        broken,
        (declared, declared_c1, declared_guidance),
    )


def _lookback_records(result: dg.ExecuteInProcessResult) -> set[tuple[str, str, str]]:
    table = next(
        e.materialization.metadata["lookback"].value
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "lookback_inventory"
    )
    return {(r.data["la_code"], r.data["lookback"], r.data["looks_back_on"]) for r in table.records}


def test_successors_publish_re_referrals_counted_within_their_own_return_as_dfe_did(split) -> None:
    """DfE's first-year re-referrals of a successor are its referrals less its children referred (a child
    referred again in the year); Cumberland's and Westmorland and Furness's published cells are that, and
    England's and the North West's re-referrals are theirs; a lost predecessor return blocks nothing."""
    (_, (_, year), release, c1, guidance, looked, measured), (rerun, rerun_measured), *_ = split
    assert year.success and release.success
    check = _check(year)
    assert check.passed and check.metadata["counted look-backs"].value == 0
    assert _lookback_records(year) == {("942", "own_return", ""), ("943", "own_return", "")}
    assert looked.is_empty()  # nothing of Cumbria's 2023 return is read
    for la in ("942", "943"):
        own = measured.filter(pl.col("old_la_code") == la)
        within = own["Referrals"].item() - own["Referrals_child"].item()
        assert own["Re_referrals"].item() == within > 0, la
        published = _row(c1, la)
        assert published["rereferral_count"] == str(within), la
        assert published["rereferral_percent"] != "x"
    england = measured.filter(pl.col("geographic_level") == "National")
    assert (
        england["Re_referrals"].item()
        == measured.filter(pl.col("old_la_code").is_in(["942", "943"]))["Re_referrals"].sum()
    )
    assert float(_row(c1, NORTH_WEST)["rereferral_percent"]) == pytest.approx(
        100 * england["Re_referrals"].item() / england["Referrals"].item(), abs=0.051
    )
    assert (
        "2024: Cumberland (942): in its first year its re-referrals are counted within its own 2024 return, "
        "as DfE counted them" in guidance
    )
    assert check_evaluation(year, "disclosure_lp_audit").passed
    # Cumbria's 2023 return lost: nothing of it is read, so 2024 reruns to the same figures
    assert rerun.success and _check(rerun).passed
    assert rerun_measured.equals(measured)


def test_a_lost_predecessor_return_blocks_a_successor_declared_to_look_back_on_it(split) -> None:
    *_, broken, _ = split
    check = _check(broken)
    assert not check.passed and not broken.success
    assert check.metadata["la_codes"].value == "942, 943"
    assert (
        "[2024] LA 942 Cumberland: look-back to its 2023 return census/2023/909.xml is missing"
        in check.metadata["problems"].value
    )


def test_a_successor_declared_to_look_back_on_its_predecessor_counts_its_children_across_the_split(
    split,
) -> None:
    """With the file restored, the declared look-back reads Cumbria's 2023 rows under the successors' codes:
    children Cumbria referred within 12 months count too, so the re-referrals are more than the year's."""
    (_, _, _, _, _, _, measured), _, _, ((year, release), declared_c1, guidance) = split
    assert year.success and release.success and _check(year).passed
    assert _lookback_records(year) == {("942", "counted", "909"), ("943", "counted", "909")}
    for la in ("942", "943"):
        own = measured.filter(pl.col("old_la_code") == la)["Re_referrals"].item()
        assert declared_c1.filter(pl.col("old_la_code") == la)["Re_referrals"].item() > own, la
    assert (
        "2024: Cumberland (942): its re-referrals look back on the 2023 return of the authority it succeeds "
        "(909) (reference la_successors.csv)" in guidance
    )


MERGER = [
    "835",
    "836",
    "837",
    "838",
    "839",
    "866",
]  # Dorset, Poole, Bournemouth to 2019; Dorset, BCP; Swindon
SOUTH_WEST = "E12000009"


@pytest.fixture(scope="module")
def merger(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("merger") / "data"
    _, years, release = released_census(root, MERGER, [2019, 2020], scale=0.05)
    return root, years, release, _c1_of(root, 2020), (root / "published" / GUIDANCE_FILE).read_text()


def test_unlinked_successors_are_not_available_and_the_region_divides_by_every_referral(merger) -> None:
    root, (_, year), release, c1, guidance = merger
    assert year.success and release.success and _check(year).passed
    for la in ("838", "839"):
        assert _row(c1, la)["rereferral_count"] == "x" and _row(c1, la)["rereferral_percent"] == "x", la
        assert _row(c1, la)["referral_count"].isdigit()
    measured = pl.read_parquet(root / "staging" / "measure_c1" / "2020.parquet")
    swindon = measured.filter(pl.col("old_la_code") == "866")
    region = measured.filter(pl.col("region_code") == SOUTH_WEST, pl.col("geographic_level") == "Regional")
    assert region["Re_referrals"].item() == swindon["Re_referrals"].item()  # only Swindon is looked back on
    assert region["Referrals"].item() > swindon["Referrals"].item()  # BCP's and Dorset's referrals are in
    published = float(_row(c1, SOUTH_WEST)["rereferral_percent"])
    assert published == pytest.approx(
        100 * region["Re_referrals"].item() / region["Referrals"].item(), abs=0.051
    )
    assert published < float(_row(c1, "866")["rereferral_percent"])  # understated, as DfE's
    assert (
        "2020: Dorset (838): re-referrals are not available (it is new in 2020 or has a new code, so it has no "
        "2019 return of its own, and DfE did not look back on its predecessors' 2019 returns)" in guidance
    )
    assert "for Bournemouth, Christchurch and Poole and for Dorset in 2020" in guidance
    assert check_evaluation(year, "disclosure_lp_audit").passed


def test_a_release_refuses_re_referrals_that_looked_back_on_returns_since_replaced(tmp_path: Path) -> None:
    """2020 looks back on East Sussex's 2019 return. Run in either order (as a backfill may), the release
    passes; once a corrected 2019 return comes in and 2019 is rerun, 2020's protected re-referrals still
    count the old one, and the release refuses, naming both years, until 2020 is rerun."""
    root = tmp_path / "data"
    expect_only(root, ["845"])
    generate_census(root / "census", [2019, 2020], scale=0.02, seed=5, las=["845"], workers=1)
    instance = dg.DagsterInstance.ephemeral()
    assert run(root, instance, YEAR, "2020").success and run(root, instance, YEAR, "2019").success
    assert run(root, instance, RELEASE).success
    before = published_files(root)

    correct_return(root, tmp_path / "corrected", 2019, "845", seed=6)
    assert run(root, instance, YEAR, "2019").success
    message = refused_release(root, instance)
    assert (
        "2020's re-referrals looked back on 2019 returns (845.xml) other than the 2019 returns now" in message
    )
    assert "then 2020 through protect_year" in message
    assert published_files(root) == before

    assert run(root, instance, YEAR, "2020").success
    assert run(root, instance, RELEASE).success
