"""A data root whose reference expects only the LAs a small test census generates.

The return inventory expects every LA of ``reference/la_codes_by_year.csv``; a test census of a few LAs
therefore copies the shipped reference with the LA list cut to those LAs (everything else unchanged).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import polars as pl

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "reference"


def expect_only(root: Path, las: Iterable[str]) -> Path:
    """Copy the shipped reference into ``root/reference`` expecting only ``las``; returns the folder."""
    ref = root / "reference"
    shutil.copytree(SHIPPED, ref, dirs_exist_ok=True)
    codes = ref / "la_codes_by_year.csv"
    pl.read_csv(codes, infer_schema=False).filter(pl.col("old_la_code").is_in(list(las))).write_csv(codes)
    return ref
