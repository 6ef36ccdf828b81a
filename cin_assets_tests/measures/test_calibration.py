"""At scale 1 the synthetic census, counted with the measures' definitions, gives the published LA values
of the calibrated measures (a few LAs here; benchmarks/check_calibration.py runs all of England)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from cin_assets import reference
from cin_assets.census.reader import census_files, read_returns
from cin_assets.datasets.catalogue import DATASETS
from cin_assets.measures import build
from cin_assets.measures.calibration import CALIBRATED, compare_las, round_half_up
from cin_assets.synth import generate_census

LAS = ["841", "202", "839", "420"]  # Darlington, Camden, BCP (new in 2020), Isles of Scilly (tiny)


def test_calibrated_measures_equal_the_published_la_values(tmp_path: Path) -> None:
    generate_census(tmp_path, [2020], scale=1.0, seed=7, las=LAS, workers=1)
    tables = read_returns(census_files(tmp_path, 2020), year=2020, workers=1)
    frames = {code: build(DATASETS[code], 2020, tables) for code in {c for c, _ in CALIBRATED}}
    result = compare_las(frames, 2020, LAS)
    assert set(result["old_la_code"]) == set(LAS)
    off = result.filter(pl.col("status").is_in(["differs", "missing"]))
    # one known miss: the Isles of Scilly's 2020 not-in-need referrals (9 published; about 20 referrals in
    # the year leave the generator too few assessed episodes closing by 31 March since durations follow LAIT
    # CINCease per LA: issue 14); anything else, or a larger miss, fails
    assert off.select("measure", "old_la_code").rows() in ([], [("Not_in_Need", "420")]), result
    assert (off["pipeline"].cast(pl.Int64) - off["published"].cast(pl.Int64)).abs().max() in (None, 1), off
    assert result.filter(pl.col("status") == "equal").height >= 4 * 8 - 1
    assert round_half_up(642_976) == 642_980 and round_half_up(5) == 10 and round_half_up(4) == 0


# Scilly, Hartlepool, West Northamptonshire (from 2022), Cumberland (from 2024). Not City of London: its
# published 2025 CIN at 31 March (69) exceeds what its 24 open cases of 2024 and 27 non-NFA referrals allow.
LATER_LAS = ["420", "805", "941", "942"]
# the six measures calibrated exactly (referrals, CIN at 31 March, S47, ICPC, CPP starting, CPP at 31 March)
SIX = ["Referrals", "At31_episodes", "Section47", "ICPC", "CPP_start", "CPP_At31"]


def test_calibrated_measures_equal_the_published_la_values_2021_to_2025(tmp_path: Path) -> None:
    years = [2021, 2022, 2023, 2024, 2025]
    generate_census(tmp_path, years, scale=1.0, seed=7, las=LATER_LAS, workers=1)
    for year in years:
        tables = read_returns(census_files(tmp_path, year), year=year, workers=1)
        frames = {code: build(DATASETS[code], year, tables) for code in {c for c, _ in CALIBRATED}}
        las = [la for la in LATER_LAS if (tmp_path / str(year) / f"{la}.xml").exists()]
        result = compare_las(frames, year, las).filter(pl.col("measure").is_in(SIX))
        assert set(result["old_la_code"]) == set(las), year
        assert result.filter(pl.col("status").is_in(["differs", "missing"])).is_empty(), (year, result)
        assert result.filter(pl.col("status") == "equal").height >= 5, year  # the rest are published c


def test_england_holds_the_las_dfe_carried_forward() -> None:
    """2021: DfE's England totals hold Hackney's 2020 figures (no 2021 return); a census of the other LAs
    matches them only with those added."""
    from cin_assets.measures import calibration

    national = {
        column: int(reference.published_values(column, 2021, "National", None)["published"].item())
        for _, column in CALIBRATED
    }
    hackney = {column: calibration._carried_published(column, 2021, None) for _, column in CALIBRATED}
    assert hackney["Referrals"] > 1000  # Hackney's 2020 referrals
    frames = {
        code: pl.DataFrame(
            {
                "geographic_level": ["National"],
                **{c: [national[c] - hackney[c]] for k, c in CALIBRATED if k == code},
            }
        )
        for code in {k for k, _ in CALIBRATED}
    }
    assert calibration.compare_england(frames, 2021)["equal"].all()


def test_an_icpc_count_published_below_the_cpp_starts_is_met_at_the_fewest_a_valid_return_holds(
    tmp_path: Path,
) -> None:
    """Doncaster 2022 published 307 ICPCs and 437 CPP starts: no return without errors holds both, so the
    census holds 437 ICPCs (one per plan starting), the other five measures exact, and says so."""
    from cin_assets.measures import calibration
    from cin_assets.validation import validate

    assert calibration.inconsistent_icpc(2022) == {"371": 437}
    generate_census(tmp_path, [2022], scale=1.0, seed=7, las=["371"], workers=1)
    tables = read_returns(census_files(tmp_path, 2022), year=2022, workers=1)
    frames = {code: build(DATASETS[code], 2022, tables) for code in {c for c, _ in CALIBRATED}}
    result = compare_las(frames, 2022, ["371"]).filter(pl.col("measure").is_in(SIX))
    status = dict(result.select("measure", "status").iter_rows())
    assert status == {**dict.fromkeys(SIX, "equal"), "ICPC": "inconsistent"}, result
    assert result.filter(pl.col("measure") == "ICPC").select("pipeline", "published").row(0) == (437, "307")
    errors = validate(tables, 2022).filter(pl.col("type") == "error")
    assert errors.is_empty(), errors
    # England: the census's ICPCs are over DfE's by Doncaster's 130, which is explained, not equal
    national = {
        c: int(reference.published_values(c, 2022, "National", None)["published"].item())
        for _, c in CALIBRATED
    }
    ours = {c: national[c] - calibration._carried_published(c, 2022, None) for _, c in CALIBRATED}
    ours["ICPC"] += 130
    frames = {
        code: pl.DataFrame(
            {"geographic_level": ["National"], **{c: [ours[c]] for k, c in CALIBRATED if k == code}}
        )
        for code in {k for k, _ in CALIBRATED}
    }
    england = calibration.compare_england(frames, 2022)
    assert england.filter(pl.col("measure") != "ICPC")["equal"].all()
    icpc = england.filter(pl.col("measure") == "ICPC").row(0, named=True)
    assert (icpc["equal"], icpc["inconsistent"], icpc["explained"]) == (False, 130, True)
