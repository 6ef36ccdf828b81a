"""Every relation the catalogue declares between statistics holds exactly on generated data, wherever all
its terms are published (every LA, region and England), so the attacker model built on them is sound."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from cin_assets.datasets.catalogue import DATASETS
from cin_assets.datasets.description import Relation
from cin_assets.disclosure.config import DisclosureConfig
from cin_assets.disclosure.model import Model, build_model
from cin_assets.measures import build, requirements
from cin_assets_tests.measures.census_builder import random_census

YEAR = 2020
DECLARED = [(code, i, r) for code, ds in DATASETS.items() for i, r in enumerate(ds.relations)]


@pytest.fixture(scope="module")
def model() -> Model:
    tables, previous = random_census(YEAR, seed=3), random_census(YEAR - 1, seed=4)
    frames: dict[str, pl.DataFrame] = {}
    for code, ds in sorted(DATASETS.items(), key=lambda item: bool(requirements(item[1]).sources)):
        if requirements(ds).sources:
            frames[code] = build(ds, YEAR, sources=frames)
        else:
            frames[code] = build(ds, YEAR, tables, previous)
    return build_model(frames, DATASETS, DisclosureConfig())


def _instances(model: Model, relation: Relation) -> pl.DataFrame:
    """sum(coef * value) per geography/filter context where every term is an available cell."""
    cells = pl.DataFrame({"key": model.keys, "value": model.value, "available": model.available}).filter(
        "available"
    )
    split = pl.col("key").str.splitn("\x1f", 2)
    cells = cells.select(
        split.struct.field("field_0").alias("measure"),
        split.struct.field("field_1").alias("context"),
        "value",
    )
    terms = pl.DataFrame({"measure": list(relation.measures), "coef": [c for _, c in relation.terms]})
    return (
        cells.join(terms, on="measure")
        .group_by("context")
        .agg(pl.len().alias("terms"), (pl.col("coef") * pl.col("value")).sum().alias("lhs"))
        .filter(pl.col("terms") == len(relation.terms))
    )


@pytest.mark.parametrize(("code", "i", "relation"), DECLARED, ids=[f"{c}-{i}" for c, i, _ in DECLARED])
def test_declared_relation_holds_exactly_everywhere(
    model: Model, code: str, i: int, relation: Relation
) -> None:
    found = _instances(model, relation)
    assert found.height >= 150, f"{code} relation {i} applies in only {found.height} places"
    lhs = found.get_column("lhs")
    assert ((lhs == 0) if relation.kind == "eq" else (lhs <= 0)).all(), relation.why


def test_declared_relations_are_in_the_disclosure_model(model: Model) -> None:
    """Identities join the model's equations (not as sums), inequalities its inequality rows; both hold."""
    assert (~model.sums).sum() >= 3 * 150
    assert model.inequalities.shape[0] >= 30 * 150
    assert (model.relations @ model.value == 0).all()
    assert (model.inequalities @ model.value <= 0).all()


def test_national_total_rows_are_the_england_cells_of_the_la_files(model: Model) -> None:
    """A5's Gender/Total row is the England row of A6 and D4; A3's total is B3's England row."""
    occ = model.occurrences.join(
        pl.DataFrame({"cell": np.arange(model.n), "key": model.keys}), on="cell"
    ).filter(pl.col("key").str.contains("\x1fE92000001\x1f"))

    def files(measure: str) -> set[str]:
        return set(occ.filter(pl.col("key") == f"{measure}\x1fE92000001\x1f").get_column("dataset"))

    assert {"A5", "A6", "D4"} <= files("CPP_At31_initial_SAB")
    assert {"A5", "A6", "D1", "D4", "D5", "A2", "H"} <= files("CPP_At31")
    assert {"A3", "A4", "A7", "B1", "B3"} <= files("At31_episodes")
