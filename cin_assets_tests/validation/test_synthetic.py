"""Clean synthetic census files (the project's generator) pass every error rule, in several years."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cin_assets.synth import generate_census
from cin_assets.validation import cli

YEARS = (2014, 2017, 2020)
LAS = ("201", "330", "845", "873", "909")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    out = tmp_path_factory.mktemp("synth")
    generate_census(out, YEARS, scale=0.05, seed=11, las=LAS, workers=1)
    assert sorted(p.name for p in Path(out, "2020").glob("*.xml")) == [f"{la}.xml" for la in LAS]
    return cli.run([out], workers=1)  # each return validated as the year its header gives


def test_generated_returns_have_no_errors(report: pl.DataFrame) -> None:
    errors = report.filter(pl.col("type") == "error")
    assert errors.is_empty(), errors.group_by("reporting_year", "rule").len()


# queries the generator raises on purpose, as real returns do: 8899Q (a disabled child's assessment without
# factor 5A/6A: DfE's published factor counts are below the assessments of disabled children) and 8825Q (an
# episode closed RC8 with no assessment in the year: B6's RC8 closures of episodes of need)
CALIBRATED_QUERIES = {"8899Q", "8825Q"}


def test_generated_returns_raise_few_queries(report: pl.DataFrame) -> None:
    # a real return raises some queries (an assessment still open after 45 working days, say); a generator
    # bug would raise them for many children
    other = report.filter(~pl.col("rule").is_in(sorted(CALIBRATED_QUERIES)))
    assert other.height < 20, other.group_by("reporting_year", "rule").len()
    assert set(report["reporting_year"]) <= set(YEARS)
    assert (report["type"] == "query").all()
    # the calibrated ones stay a small share of the assessments (8899Q: about a third of disabled children's)
    assert report.height < 150, report.group_by("reporting_year", "rule").len()
