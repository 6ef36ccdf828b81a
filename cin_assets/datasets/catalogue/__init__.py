"""The descriptions of the release's 28 data sets, in release order (A1-A7, B1-B6, C1-C5, D1-D8, H, P)."""

from __future__ import annotations

from cin_assets.datasets.catalogue import a_series, b_series, c_series, d_series, supporting
from cin_assets.datasets.description import DataSet

DATASETS: dict[str, DataSet] = {
    ds.code: ds
    for ds in (
        *a_series.DATASETS,
        *b_series.DATASETS,
        *c_series.DATASETS,
        *d_series.DATASETS,
        *supporting.DATASETS,
    )
}

__all__ = ["DATASETS"]
