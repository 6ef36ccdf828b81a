"""At scale 1 the synthetic census, counted with the measures' definitions, gives the published LA values
of the calibrated measures (a few LAs here; benchmarks/check_calibration.py runs all of England)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

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
        column: int(calibration._published(column, 2021, "National", None)["published"].item())
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
