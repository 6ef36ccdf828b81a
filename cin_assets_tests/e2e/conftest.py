"""Shared pieces of the end-to-end tests: a small synthetic census, data roots and instance folders.

Everything the tests need from the machine (Chromium, PostgreSQL) is checked up front and fails with the
install command: CI installs both in ``.ci/run``, and a missing one must never turn into a silent skip.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cin_assets.synth import generate_census
from cin_assets_tests.e2e.harness import instance_yaml
from cin_assets_tests.e2e.postgres import Postgres, postgres_server, server_binaries
from cin_assets_tests.reference_subset import expect_only

# Two LAs in different regions, a twentieth of their real volume: a few hundred children each.
LAS = ("845", "873")
YEARS = (2019, 2020)
SCALE = 0.05
SEED = 1


@pytest.fixture(scope="session")
def census_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("census_source")
    generate_census(out, YEARS, scale=SCALE, seed=SEED, las=LAS, workers=1)
    return out


def new_data_root(base: Path, census_source: Path) -> Path:
    """A data root holding a copy of the census and the shipped reference expecting only its LAs."""
    root = base / "data"
    shutil.copytree(census_source, root / "census")
    expect_only(root, LAS)
    return root


def new_home(base: Path, yaml_text: str | None = None) -> Path:
    """A DAGSTER_HOME with the project's dagster.yaml (nux and telemetry off), or ``yaml_text``."""
    home = base / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml_text if yaml_text is not None else instance_yaml())
    return home


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    """A private PostgreSQL server (fails with the install command if the binaries are missing)."""
    try:
        server_binaries()
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    with postgres_server() as server:
        yield server
