"""The fidelity report at small scale: three LAs generated at scale 1, their figures against the real ones.

A definition change that moves figures shows here: the calibrated LA counts must stay exact and the other
LA-level figures within the recorded error bounds.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cin_assets.census.reader import census_files, read_returns
from cin_assets.datasets.catalogue import DATASETS
from cin_assets.datasets.catalogue.common import UNKNOWN_GENDER
from cin_assets.measures import build_all
from cin_assets.measures.fidelity import (
    compare,
    our_figures,
    real_figures,
    summary,
    suppression,
    suppression_differences,
)
from cin_assets.synth import generate_census

LAS = ("201", "805", "845")  # City of London, Hartlepool, East Sussex
YEAR = 2020
EXACT = {  # per LA, as the generator allocates them
    ("B1", "At31_episodes"),
    ("B1", "Awaiting_assessment"),
    ("C1", "Referrals"),
    ("C1", "No_Further_Action"),
    ("C4", "Section47"),
    ("C4", "ICPC"),
    ("D3", "CPP_start"),
    ("D3", "CPP_subsequent"),
    ("D5", "CPP_At31"),
}


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    out = tmp_path_factory.mktemp("census")
    generate_census(out, [YEAR - 1, YEAR], scale=1.0, seed=5, las=LAS, workers=1)
    tables = read_returns(census_files(out, YEAR), YEAR, workers=1)
    previous = read_returns(census_files(out, YEAR - 1), YEAR - 1, workers=1)
    frames = build_all(DATASETS, YEAR, tables, previous)
    real = real_figures(YEAR, DATASETS).filter(pl.col("old_la_code").is_in(LAS))
    return compare(real, our_figures(frames, DATASETS))


def test_every_real_la_figure_of_the_las_is_compared(comparison: pl.DataFrame) -> None:
    done = comparison.filter(pl.col("status") == "compared")
    assert set(done["dataset"]) >= {"B1", "B4", "B5", "C1", "C3", "C4", "D3", "D5", "D6", "D7"}
    # LAIT figures are compared as our own ratios (e.g. the share of ended episodes lasting 2 years+)
    assert done.filter(pl.col("column") == "LAIT:CINCease2more").height == len(LAS)
    assert comparison.filter(pl.col("status") == "missing").is_empty()


def test_calibrated_la_counts_are_exact(comparison: pl.DataFrame) -> None:
    rows = comparison.filter(
        pl.struct("dataset", "column").map_elements(
            lambda r: (r["dataset"], r["column"]) in EXACT, pl.Boolean
        )
    )
    # published as c: Hartlepool's NFA, City of London's CPPs starting, second plans and at 31 March
    assert rows.height == len(EXACT) * len(LAS) - 4
    bad = rows.filter(~pl.col("exact"))
    assert bad.is_empty(), bad


def test_la_figures_stay_within_the_recorded_error(comparison: pl.DataFrame) -> None:
    table = summary(comparison)
    median = dict(table.select("dataset", "la_median_abs_pct").iter_rows())
    # recorded for this seed: a definition change that moves the figures breaks these bounds
    assert median["B1"] <= 10
    assert median["C1"] <= 10
    assert median["C4"] <= 15
    assert median["D5"] <= 20
    # C3 factors are drawn exactly to each LA's published count (off by one where an episode has two
    # assessments in the year); they were 14% off at the LA median before
    assert median["C3"] <= 1
    # a disabled child's 5A/6A is recorded only as often as the LA's published count (it was always
    # recorded before, 39% above England's count in 2020)
    disability = comparison.filter(
        (pl.col("status") == "compared")
        & pl.col("column").is_in(["Learning_Disability_child", "Physical_Disability_child"])
    )
    assert disability.height >= 4
    assert (disability["error"].abs() <= 3).all(), disability
    # children awaiting assessment were 91% short before they were calibrated per LA
    awaiting = comparison.filter(pl.col("column") == "Awaiting_assessment")
    assert (awaiting["rel_error"].abs() <= 0.02).all()


def test_b6_pairs_follow_the_2020_file_order() -> None:
    real = real_figures(YEAR, DATASETS).filter(
        (pl.col("dataset") == "B6") & (pl.col("geographic_level") == "National")
    )
    values = dict(real.select("column", "value").iter_rows())
    assert values["RC7_Services_ceased"] == "346730"  # the eighth pair, 93.4% of ended episodes
    assert values["RC1_Adopted"] == "2700"


def test_suppression_agreement_counts_both_patterns() -> None:
    real = pl.DataFrame(
        {
            "source_id": ["E23C1"] * 3,
            "dataset": ["C1"] * 3,
            "column": ["No_Further_Action"] * 3,
            "geographic_level": ["Local authority"] * 3,
            "region_code": ["E12000001"] * 3,
            "old_la_code": ["a", "b", "c"],
            "filters": [""] * 3,
            "value": ["c", "12", "c"],
            "unit": ["count"] * 3,
        }
    )
    ours = {
        "C1": pl.DataFrame(
            {
                "geographic_level": ["Local authority"] * 3,
                "region_code": ["E12000001"] * 3,
                "old_la_code": ["a", "b", "c"],
                "No_Further_Action": ["c", "c", "7"],
            }
        )
    }
    row = suppression(real, ours).row(0, named=True)
    assert (row["cells"], row["both_c"], row["real_only"], row["ours_only"]) == (3, 1, 1, 1)
    assert row["agreement"] == pytest.approx(33.3)


def test_every_suppression_difference_from_dfe_says_why() -> None:
    """Four LAs differ from DfE's pattern, each for a cause the report names: ours is a 1..5 where DfE
    published 7; ours is a secondary (the relation it protects is given); DfE suppressed a count ours
    publishes; ours is a percentage of a suppressed count. The cell both suppress is not listed."""
    las = ["a", "b", "c", "d", "e"]
    real = pl.DataFrame(
        {
            "source_id": "E23C1",
            "dataset": "C1",
            "column": ["No_Further_Action"] * 4 + ["No_Further_Action_percent"],
            "geographic_level": "Local authority",
            "region_code": "E12000001",
            "old_la_code": las,
            "filters": "",
            "value": ["7", "40", "c", "c", "12.5"],
            "unit": "count",
        }
    )
    ours = {
        "C1": pl.DataFrame(
            {
                "geographic_level": "Local authority",
                "region_code": "E12000001",
                "old_la_code": las,
                "No_Further_Action": ["c", "c", "9", "c", "c"],
                "No_Further_Action_percent": ["c", "c", "9.0", "c", "c"],
            }
        )
    }
    relation = (
        "C1 No_Further_Action: North East = sum of its local authorities; protects C1 No_Further_Action for a"
    )
    report = pl.DataFrame(
        {
            "geographic_level": "Local authority",
            "geography_code": ["a", "b", "d", "e"],
            "dataset": "C1",
            "column": [
                "No_Further_Action",
                "No_Further_Action",
                "No_Further_Action",
                "No_Further_Action_percent",
            ],
            "kind": ["primary", "secondary", "primary", "derived"],
            "protects": [None, relation, None, "computed from suppressed No_Further_Action"],
        }
    )
    found = suppression_differences(real, ours, report)
    got = {r["old_la_code"]: (r["cause"], r["relation"], r["reason"]) for r in found.iter_rows(named=True)}
    assert got == {
        "a": ("values differ", None, "ours is a count of 1 to 5; DfE's is 7"),
        "b": ("our secondary", "geography", relation),
        "c": ("DfE only", None, "DfE suppressed it (a count of 1 to 5, or DfE's secondary); ours is 9"),
        "e": ("derived", None, "computed from suppressed No_Further_Action"),
    }


def test_report_script_runs(tmp_path: Path) -> None:
    import subprocess
    import sys

    census = tmp_path / "census"
    generate_census(census, [YEAR - 1, YEAR], scale=1.0, seed=5, las=("201",), workers=1)
    out = subprocess.run(
        [sys.executable, "benchmarks/fidelity.py", "--census", str(census), "--years", str(YEAR),
         "--workers", "1", "--out", str(tmp_path / "report")],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], check=True,
    )  # fmt: skip
    assert "real figures compared" in out.stdout
    assert (tmp_path / "report" / f"summary_{YEAR}.csv").exists()
    assert "Suppression at LA level" in out.stdout and "Why they differ (dfe rule)" in out.stdout
    assert (tmp_path / "report" / f"suppression_differences_{YEAR}.csv").exists()


def test_dfes_spellings_of_the_unknown_gender_item_meet_the_published_label() -> None:
    """DfE's 2020 A4 and A5 spell the item two ways; both are compared with the one label we publish, so
    England's 70 children of unknown gender on a plan are compared, not reported missing."""
    real = real_figures(YEAR, DATASETS).filter(pl.col("dataset").is_in(["A4", "A5"]))
    unknown = real.filter(pl.col("filters").str.contains("(?i)unknown"))
    assert unknown.height == 13  # A4: 7 columns, A5: 6
    assert unknown["filters"].str.ends_with(f"characteristic={UNKNOWN_GENDER}").all()
