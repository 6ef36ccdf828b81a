"""One small synthetic census shared by the synth tests (generated once per session, a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cin_assets.census import reader
from cin_assets.synth import generate_census

# Small LAs at full scale: City of London, Isles of Scilly, Hartlepool, East Sussex, and Dorset (created
# April 2019, so it makes a 2020 return only).
LAS = ("201", "420", "805", "838", "845")
YEARS = (2019, 2020)
SEED = 7


@pytest.fixture(scope="session")
def census_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("census")
    generate_census(out, YEARS, scale=1.0, seed=SEED, las=LAS, workers=2)
    return out


@pytest.fixture(scope="session")
def tables(census_dir: Path) -> dict[int, dict]:
    return {
        year: reader.read_returns(reader.census_files(census_dir, year), year, workers=1) for year in YEARS
    }
