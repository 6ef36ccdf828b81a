"""At scale 1 the synthetic census, counted with the measures' definitions, gives the published LA values
of the calibrated measures (a few LAs here; benchmarks/check_calibration.py runs all of England)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from cin_assets.census.reader import census_files, read_returns
from cin_assets.measures import build
from cin_assets.measures.calibration import CALIBRATED, compare_las, round_half_up
from cin_assets.publish.catalogue import DATASETS
from cin_assets.synth import generate_census

LAS = ["841", "202", "839", "420"]  # Darlington, Camden, BCP (new in 2020), Isles of Scilly (tiny)


def test_calibrated_measures_equal_the_published_la_values(tmp_path: Path) -> None:
    generate_census(tmp_path, [2020], scale=1.0, seed=7, las=LAS, workers=1)
    tables = read_returns(census_files(tmp_path, 2020), year=2020, workers=1)
    frames = {code: build(DATASETS[code], 2020, tables) for code in {c for c, _ in CALIBRATED}}
    result = compare_las(frames, 2020, LAS)
    assert set(result["old_la_code"]) == set(LAS)
    assert result.filter(pl.col("status").is_in(["differs", "missing"])).is_empty(), result
    assert result.filter(pl.col("status") == "equal").height >= 4 * 8
    assert round_half_up(642_976) == 642_980 and round_half_up(5) == 10 and round_half_up(4) == 0
