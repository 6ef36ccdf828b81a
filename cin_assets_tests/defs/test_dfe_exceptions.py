"""Hackney 2021-2022 as DfE handled them: the generated census has no return from Hackney for those years and
declares them carry_forward; the inventory check passes, Hackney's cells are not available and the Inner
London and England totals hold its 2020 figures."""

import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

import cin_assets.defs.publish as publish_defs
from cin_assets.census import exceptions
from cin_assets.datasets.catalogue import DATASETS
from cin_assets.defs import inventory, lookback, validation
from cin_assets.defs.resources import default_resources
from cin_assets.synth import generate_census
from cin_assets.synth.generate import declare_exceptions, omitted_years
from cin_assets_tests.defs.pipeline import MEASURED as ASSETS
from cin_assets_tests.defs.pipeline import RELEASE, correct_return, published_files, refused_release, run

PROJECT = Path(__file__).resolve().parents[2]
LAS = ["204", "210", "845"]  # Hackney and Southwark (Inner London), East Sussex (South East)
YEARS = [2020, 2021, 2022]
COUNTS = [i.name for i in DATASETS["B1"].indicators if i.unit == "count"]


@pytest.fixture(scope="module")
def years(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("dfe") / "data"
    shutil.copytree(PROJECT / "data" / "reference", root / "reference")
    codes = root / "reference" / "la_codes_by_year.csv"
    pl.read_csv(codes, infer_schema=False).filter(pl.col("old_la_code").is_in(LAS)).write_csv(codes)
    generate_census(root / "census", YEARS, scale=0.02, seed=4, las=LAS, workers=1)
    declare_exceptions(root, YEARS)
    instance = dg.DagsterInstance.ephemeral()
    resources = {**default_resources(root), "validation_policy": validation.ValidationPolicy()}
    results = {
        y: dg.materialize(
            ASSETS, partition_key=str(y), instance=instance, resources=resources, raise_on_error=False
        )
        for y in YEARS
    }
    return root, results


def test_the_generator_omits_and_declares_dfe_exceptions(years, tmp_path: Path) -> None:
    root, _ = years
    assert sorted(p.stem for p in (root / "census" / "2020").glob("*.xml")) == LAS
    for y in (2021, 2022):
        assert sorted(p.stem for p in (root / "census" / str(y)).glob("*.xml")) == ["210", "845"]
    declared = exceptions.read_file(root / exceptions.FILE_NAME)
    assert declared.select("reporting_year", "la_code", "action").rows() == [
        (2021, "204", "carry_forward"),
        (2022, "204", "carry_forward"),
    ]
    assert omitted_years("850") == {2024} and omitted_years("204") == {2021, 2022}
    # declaring again keeps the team's own rows and adds nothing twice
    (tmp_path / exceptions.FILE_NAME).write_text(
        "reporting_year,la_code,action,note\n2024,201,not_available,x\n"
    )
    declare_exceptions(tmp_path, range(2013, 2027))
    again = exceptions.read_file(tmp_path / exceptions.FILE_NAME)
    assert again.select("reporting_year", "la_code").rows() == [
        (2021, "204"),
        (2022, "204"),
        (2024, "201"),
        (2024, "850"),
    ]


def _b1(root: Path, year: int) -> pl.DataFrame:
    return pl.read_parquet(root / "staging" / "measure_b1" / f"{year}.parquet")


def _la(frame: pl.DataFrame, la: str) -> dict[str, int]:
    row = frame.filter((pl.col("geographic_level") == "Local authority") & (pl.col("old_la_code") == la))
    return {c: int(row[c].item()) for c in COUNTS}


def test_hackney_is_carried_forward_from_2020_as_dfe_did(years) -> None:
    root, results = years
    assert all(r.success for r in results.values())
    for y in (2021, 2022):
        (check,) = [
            c for c in results[y].get_asset_check_evaluations() if c.check_name == inventory.COMPLETE_CHECK
        ]
        assert check.passed
        measured = _b1(root, y)
        hackney_2020, southwark = _la(_b1(root, 2020), "204"), _la(measured, "210")
        inner = measured.filter(
            (pl.col("geographic_level") == "Regional") & (pl.col("region_code") == "E13000001")
        )
        assert {c: int(inner[c].item()) for c in COUNTS} == {
            c: hackney_2020[c] + southwark[c] for c in COUNTS
        }
        # Hackney is counted from its 2020 return (carry_forward), never as a return of its own
        basis = pl.read_parquet(root / "staging" / "counting_basis" / f"{y}.parquet")
        hackney = basis.filter(pl.col("la_code") == "204").row(0, named=True)
        assert (hackney["status"], hackney["basis"], hackney["source_year"]) == (
            "missing",
            "carry_forward",
            2020,
        )


def test_the_look_back_of_hackney_and_of_the_years_after_its_carried_ones(years) -> None:
    """Hackney's carried 2020 figures have no 2019 census to look back on, and its carried 2021 return is no
    2021 referrals of its own: England's and Inner London's re-referral counts hold the others only, and
    their re-referral percentages divide those by every referral, Hackney's carried ones included, as
    DfE's releases do."""
    root, results = years
    for y in (2021, 2022):
        (check,) = [
            c for c in results[y].get_asset_check_evaluations() if c.check_name == lookback.LOOKBACK_CHECK
        ]
        assert check.passed
        c1 = pl.read_parquet(root / "staging" / "measure_c1" / f"{y}.parquet")
        for level, geo in (("National", None), ("Regional", "E13000001"), ("Regional", "E12000008")):
            row = c1.filter((pl.col("geographic_level") == level) & (pl.col("region_code").eq_missing(geo)))
            assert row["Re_referrals"].item() is not None, (y, geo)
            percent = 100 * row["Re_referrals"].item() / row["Referrals"].item()
            assert row["Re_referrals_percent"].item() == pytest.approx(percent), (y, geo)
        # Hackney's carried referrals are in England's, its re-referrals are not
        la = c1.filter(pl.col("old_la_code").is_in(["210", "845"]))
        england = c1.filter(pl.col("geographic_level") == "National")
        assert england["Referrals"].item() > la["Referrals"].sum()
        assert england["Re_referrals"].item() == la["Re_referrals"].sum()
    basis = pl.read_parquet(root / "staging" / "counting_basis" / "2022.parquet")
    assert dict(basis.select("la_code", "lookback").iter_rows()) == {
        "204": "carry_forward",  # its 2021 return was declared carry_forward
        "210": "counted",
        "845": "counted",
    }


def test_a_rerun_of_the_source_year_blocks_the_release_of_the_years_carrying_from_it(years, tmp_path) -> None:
    """2021 is protected carrying Hackney's 2020 figures; then a corrected Hackney 2020 return arrives and
    2020 is rerun. 2021's protected totals still hold the old figures, with no Dagster dependency to say so:
    the release must refuse, naming 2021, Hackney and 2020, and leave the published release as it was."""
    root = tmp_path / "data"
    shutil.copytree(years[0], root)
    instance = dg.DagsterInstance.ephemeral()

    assert run(root, instance, [publish_defs.protect_year_asset], "2021").success
    assert run(root, instance, RELEASE).success
    before = published_files(root)
    correct_return(root, tmp_path / "corrected", 2020, "204", seed=5)
    assert run(root, instance, ASSETS, "2020").success
    message = refused_release(root, instance)
    assert "publication blocked: 2021 carries Hackney (204) from 2020" in message
    assert "rerun 2021 through protect_year" in message and "2022" not in message
    assert published_files(root) == before
