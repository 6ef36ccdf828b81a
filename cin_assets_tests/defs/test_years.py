"""A later reporting year through Dagster: generated 2024-25 returns (Sex, CIN plans, split abuse factors,
the 2024 LAs) are read, validated with that year's rule set, measured, protected and published."""

import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from cin_assets.defs import validation
from cin_assets.defs.resources import default_resources
from cin_assets.synth.generate import generate_census
from cin_assets_tests.defs.pipeline import ALL_ASSETS as ASSETS
from cin_assets_tests.defs.pipeline import RELEASE

YEAR = 2025
LAS = ["420", "942", "943"]  # Isles of Scilly; Cumberland and Westmorland and Furness (new in 2024)


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("later") / "data"
    shutil.copytree(Path(__file__).resolve().parents[2] / "data" / "reference", root / "reference")
    # the LAs of the test census are the year's LAs (every expected LA needs a return)
    codes = root / "reference" / "la_codes_by_year.csv"
    pl.read_csv(codes, infer_schema=False).filter(pl.col("old_la_code").is_in(LAS)).write_csv(codes)
    generate_census(root / "census", [YEAR], scale=0.05, seed=5, las=LAS, workers=1)
    resources = {**default_resources(root), "validation_policy": validation.ValidationPolicy()}
    instance = dg.DagsterInstance.ephemeral()
    year = dg.materialize(
        ASSETS,
        selection=[a for a in ASSETS if a not in RELEASE],
        partition_key=str(YEAR),
        instance=instance,
        resources=resources,
        raise_on_error=False,
    )
    release = dg.materialize(
        ASSETS, selection=RELEASE, instance=instance, resources=resources, raise_on_error=False
    )
    return root, year, release


def _published(root: Path, prefix: str) -> pl.DataFrame:
    (path,) = [p for p in (root / "published").glob(f"{prefix}_*.csv") if not p.name.endswith(".meta.csv")]
    return pl.read_csv(path, infer_schema=False).rename(str.lower)  # either output profile's names


def test_a_later_year_is_validated_with_its_rule_set(released) -> None:
    _, year, _ = released
    assert year.success
    (event,) = [
        e for e in year.get_asset_materialization_events() if e.asset_key == dg.AssetKey("census_validation")
    ]
    metadata = event.materialization.metadata
    assert metadata["rule_set"].value == "cin2024_25"
    assert "1570 added" in metadata["rule_set_changes"].value
    assert metadata["errors"].value == 0
    staged = pl.read_parquet(released[0] / "staging" / "staging_cin_plans" / f"{YEAR}.parquet")
    assert staged.height > 0


def test_a_later_year_publishes_its_rows(released) -> None:
    root, _, release = released
    assert release.success
    b1 = _published(root, "b1")
    rows = b1.filter(pl.col("time_period") == str(YEAR), pl.col("geographic_level") == "Local authority")
    assert set(rows["old_la_code"]) == set(LAS)
    cumberland = rows.filter(pl.col("old_la_code") == "942")
    assert cumberland["new_la_code"].item() == "E06000063"
    # a count or, where disclosure control hides it, `c`: never not available in the year it was collected
    counts = [cumberland[c].item() for c in ("anypoint_episodes", "at31_episodes", "ended_episodes")]
    assert all(v.isdigit() or v == "c" for v in counts), counts
    # C3: factors collected from 2021 and 2022 have values in 2025
    c3 = _published(root, "c3").filter(pl.col("time_period") == str(YEAR), pl.col("old_la_code") == "942")
    for column in ("physical_abuse_adult_on_child", "child_criminal_exploitation"):
        assert c3[column].item() not in ("x", ":", "z"), column
