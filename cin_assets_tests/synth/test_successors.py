"""Continuity across an LA split: North and West Northamptonshire's 2022 returns carry the child IDs of
Northamptonshire's 2021 children they refer again, each its own share, reproducibly."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from cin_assets.synth import generate_census
from cin_assets.synth.successors import match

SPLIT = ["928", "940", "941"]
_ID = re.compile(r"<LAchildID>(\d+)</LAchildID>")


def _ids(path: Path) -> set[str]:
    return set(_ID.findall(path.read_text()))


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("split")
    generate_census(out, [2021, 2022], scale=0.05, seed=3, las=SPLIT, workers=1)
    return out


def test_linked_successors_share_ids_with_the_predecessors_last_return_and_not_with_each_other(split) -> None:
    before = _ids(split / "2021" / "928.xml")
    north, west = _ids(split / "2022" / "940.xml"), _ids(split / "2022" / "941.xml")
    assert len(north & before) > 10 and len(west & before) > 10
    assert not north & west & before  # each predecessor child goes to one successor at most


def test_a_successor_alone_is_byte_identical(split, tmp_path: Path) -> None:
    generate_census(tmp_path, [2022], scale=0.05, seed=3, las=["940"], workers=1)
    assert (tmp_path / "2022" / "940.xml").read_bytes() == (split / "2022" / "940.xml").read_bytes()


def test_unlinked_successors_keep_their_own_ids(tmp_path: Path) -> None:
    """Dorset 2020 is not linked to Dorset county's 2019 return (DfE published x): no shared IDs."""
    generate_census(tmp_path, [2019, 2020], scale=0.05, seed=3, las=["835", "838"], workers=1)
    assert not _ids(tmp_path / "2020" / "838.xml") & _ids(tmp_path / "2019" / "835.xml")


def test_match_pairs_each_child_with_a_recent_enough_candidate_once() -> None:
    lower = np.array([10, 30, 20, 50])
    latest = np.array([25, 35, 5, 60])
    i, j = match(lower, latest)
    assert len(i) == 3  # candidate 2 (day 5) is too old for every child: three pairs at most
    assert (latest[j] >= lower[i]).all() and len(set(j.tolist())) == len(j)
