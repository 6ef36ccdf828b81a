"""A reduced synthetic release year (28 data sets, about 30 LAs in 4 regions) protected once per session."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pytest

from cin_assets.datasets.description import DataSet
from cin_assets.disclosure import ProtectedYear, protect_year
from cin_assets_tests.disclosure import release
from cin_assets_tests.disclosure.factories import local_authorities


@dataclass(frozen=True)
class Release:
    datasets: dict[str, DataSet]
    frames: dict[str, pl.DataFrame]
    protected: ProtectedYear


def small_las() -> pl.DataFrame:
    las = local_authorities(2020)
    keep = pl.col("region_code").is_in(["E12000001", "E13000001", "E13000002", "E12000009"])
    return las.filter(keep)


@pytest.fixture(scope="session")
def small_release() -> Release:
    datasets = release.descriptions()
    frames = release.frames(datasets, seed=7, las=small_las(), missing_la="204")
    return Release(datasets, frames, protect_year(frames, datasets))
