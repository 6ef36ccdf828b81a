"""Imports flow one way: the Dagster shell (``defs/``) -> the domain packages -> ``datasets`` -> ``census``.

Read from the source with ``ast`` (imports inside functions count too), so a cycle or a Dagster import in a
domain module fails here before it can make one package need another to load.
"""

from __future__ import annotations

import ast
from pathlib import Path

import cin_assets

PACKAGE = Path(cin_assets.__file__).parent

# What each domain package (or top-level module) may import from cin_assets, besides itself.
ALLOWED: dict[str, frozenset[str]] = {
    "census": frozenset(),
    "reference": frozenset({"census"}),
    "alerts": frozenset(),
    "datasets": frozenset({"census", "reference"}),
    "validation": frozenset({"census", "reference"}),
    "synth": frozenset({"census", "reference"}),
    "measures": frozenset({"census", "reference", "datasets"}),
    "publish": frozenset({"census", "reference", "datasets"}),
    "disclosure": frozenset({"census", "reference", "datasets", "publish"}),
}
# The Dagster layer: the asset definitions, the code location and the cin-run driver.
SHELL = frozenset({"defs", "definitions", "run"})


def _part(path: Path) -> str:
    """The package (or top-level module) a source file belongs to: ``census``, ``reference``, ``defs``..."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, as absolute dotted names (``from cin_assets import x`` gives ``cin_assets.x``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            module = node.module or ""
            names.add(module)
            if module == "cin_assets":
                names.update(f"cin_assets.{alias.name}" for alias in node.names)
    return names


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_part_is_classified() -> None:
    parts = {_part(p) for p in _sources()} - {"__init__"}
    assert parts <= set(ALLOWED) | SHELL, f"add {parts - set(ALLOWED) - SHELL} to ALLOWED or SHELL"


def test_domain_imports_flow_one_way() -> None:
    wrong = []
    for path in _sources():
        part = _part(path)
        if part not in ALLOWED:
            continue
        for name in _imports(path):
            if not name.startswith("cin_assets."):
                continue
            target = name.split(".")[1]
            if target != part and target not in ALLOWED[part]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert wrong == []


def test_only_the_dagster_layer_imports_dagster() -> None:
    wrong = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _sources()
        if _part(path) not in SHELL
        for name in _imports(path)
        if name.split(".")[0] == "dagster" or name.startswith("dagster_")
    ]
    assert wrong == []


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    """The walk resolves ``from cin_assets import x`` and imports inside functions (so the tests can fail)."""
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from cin_assets import measures\n    import dagster as dg\n")
    assert {"cin_assets.measures", "dagster"} <= _imports(source)
