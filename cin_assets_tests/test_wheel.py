"""The built wheel as a user installs it: in a fresh virtual environment outside the project, with the
runtime dependencies from uv.lock (hashes checked), ``cin-run`` materialises a small reporting year using
the reference data shipped inside the package."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cin_assets_tests.reference_subset import expect_only

PROJECT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).parent / "uv"
LAS = ("841", "202", "203", "909")


def _uv(*args: str | Path, cwd: Path) -> None:
    done = subprocess.run([str(UV), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.slow
def test_cin_run_from_a_wheel_installed_outside_the_project(tmp_path: Path) -> None:
    source = _mkdir(tmp_path / "source")  # a copy, so building leaves no build/ folder in the checkout
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        shutil.copy(PROJECT / name, source / name)
    shutil.copytree(PROJECT / "data" / "reference", source / "data" / "reference")
    shutil.copytree(
        PROJECT / "cin_assets",
        source / "cin_assets",
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    _uv("build", "--wheel", "--out-dir", tmp_path / "dist", cwd=source)
    (wheel,) = (tmp_path / "dist").glob("cin_assets-*.whl")
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("cin_assets/reference_data/")}
    assert "cin_assets/reference_data/la_codes_by_year.csv" in shipped

    venv = tmp_path / "venv"
    _uv("venv", "--python", sys.executable, venv, cwd=tmp_path)
    requirements = tmp_path / "requirements.txt"
    _uv("export", "--frozen", "--no-dev", "--no-emit-project", "--output-file", requirements, cwd=source)
    python = venv / "bin" / "python"
    _uv("pip", "install", "--python", python, "--require-hashes", "-r", requirements, cwd=tmp_path)
    _uv("pip", "install", "--python", python, "--no-deps", wheel, cwd=tmp_path)

    work, home = _mkdir(tmp_path / "work"), _mkdir(tmp_path / "dagster_home")
    shutil.copy(PROJECT / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIN_", "PYTHON", "VIRTUAL_ENV"))}
    env["DAGSTER_HOME"] = str(home)
    # a small census (four LAs) from the installed cin-synth, then cin-run over it
    synth = [venv / "bin" / "cin-synth", "--years", "2020", "--scale", "0.05", "--la", ",".join(LAS)]
    subprocess.run(
        [*synth, "--out", "data/census", "--workers", "1"], cwd=work, env=env, check=True, timeout=600
    )
    # the return inventory expects every LA of the reference: this data root expects only the four
    expect_only(work / "data", LAS)
    done = subprocess.run(
        [venv / "bin" / "cin-run", "--years", "2020", "--parallel", "1", "--data-dir", "data"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "census returns found" in done.stdout and "2020: ok" in done.stdout
    published = {p.name for p in (work / "data" / "published").iterdir()}
    assert len([n for n in published if n.endswith(".meta.csv")]) == 28
    where = subprocess.run(
        [python, "-c", "import cin_assets.reference as r; print(r.SHIPPED_REFERENCE)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(venv)), where  # the installed package's copy, not the checkout's


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
