"""The counting policy: count everything (default), drop children with errors, or drop LAs with errors."""

from __future__ import annotations

import polars as pl
import pytest

from cin_assets.census import tables
from cin_assets.validation import DEFAULT_POLICY, REPORT_SCHEMA, Policy, apply_policy


def _tables() -> dict[str, pl.DataFrame]:
    kids = [("845", "A"), ("845", "B"), ("846", "C")]
    children = pl.DataFrame(
        {"reporting_year": [2020] * 3, "la_code": [k[0] for k in kids], "LAchildID": [k[1] for k in kids]}
    )
    headers = pl.DataFrame(
        {"reporting_year": [2020, 2020], "la_code": ["845", "846"], "source_file": ["845.xml", "846.xml"]}
    )
    out = {name: tables.empty(name) for name in tables.TABLES}
    out["children"] = tables.conform("children", children)
    out["episodes"] = tables.conform("episodes", children.with_columns(episode_id=pl.lit(1)))
    out["headers"] = tables.conform("headers", headers)
    return out


def _report(*rows: tuple[str | None, str | None, str, str]) -> pl.DataFrame:
    """Rows of (la_code, LAchildID, rule, type)."""
    return pl.DataFrame(
        [
            {"reporting_year": 2020, "la_code": la, "LAchildID": child, "rule": rule, "type": kind}
            for la, child, rule, kind in rows
        ],
        schema_overrides={
            k: REPORT_SCHEMA[k] for k in ("reporting_year", "la_code", "LAchildID", "rule", "type")
        },
    )


def _ids(t: dict[str, pl.DataFrame], table: str = "children") -> list[str]:
    return sorted(t[table]["LAchildID"])


REPORT = _report(
    ("845", "A", "8620", "error"), ("846", "C", "8545Q", "query"), ("846", None, "2887Q", "query")
)


def test_default_counts_every_la_and_child() -> None:
    assert DEFAULT_POLICY is Policy.COUNT
    out = apply_policy(_tables(), REPORT)
    assert _ids(out) == ["A", "B", "C"] and out["headers"].height == 2


def test_exclude_children_drops_children_with_errors_from_every_child_table() -> None:
    out = apply_policy(_tables(), REPORT, "exclude_children")
    assert _ids(out) == ["B", "C"]  # C has only a query
    assert _ids(out, "episodes") == ["B", "C"]
    assert out["headers"].height == 2


def test_exclude_las_drops_las_with_any_error_including_file_errors() -> None:
    out = apply_policy(_tables(), REPORT, Policy.EXCLUDE_LAS)
    assert _ids(out) == ["C"] and out["headers"]["la_code"].to_list() == ["846"]
    file_error = _report(("846", None, "header_year", "error"))
    assert _ids(apply_policy(_tables(), file_error, Policy.EXCLUDE_LAS)) == ["A", "B"]


def test_ignored_rules_never_exclude() -> None:
    assert _ids(apply_policy(_tables(), REPORT, Policy.EXCLUDE_LAS, ignore=["8620"])) == ["A", "B", "C"]


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="drop_everything"):
        apply_policy(_tables(), REPORT, "drop_everything")
