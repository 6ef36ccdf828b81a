"""What counted data does with a return that fails validation: one pure, documented policy function.

The DfE publishes figures from returns that passed COLLECT, but a pipeline re-running old years from
locally held returns has to decide what to do with a return that still fails. Three policies:

- ``count`` (default): every LA and child is counted; the validation report and its asset checks flag the
  failures. Matches the published figures, which include every LA's return.
- ``exclude_children``: children with at least one *error* (DfE rule or value fault) are dropped from every
  child table; return-level and file-level errors do not remove anything else. Queries never exclude.
- ``exclude_las``: every LA with at least one error of any kind (including file faults such as a header for
  another year or a duplicate return) is dropped from every table, its header included, so measures treat it
  as a missing return.

Rule codes listed in ``ignore`` never exclude anything (e.g. a rule the team judges wrong for a year).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

import polars as pl

from cin_assets.census import tables as census_tables
from cin_assets.validation.rule import CHILD_KEY, LA_KEY


class Policy(StrEnum):
    COUNT = "count"
    EXCLUDE_CHILDREN = "exclude_children"
    EXCLUDE_LAS = "exclude_las"


DEFAULT_POLICY = Policy.COUNT


def apply_policy(
    tables: Mapping[str, pl.DataFrame],
    report: pl.DataFrame,
    policy: Policy | str = DEFAULT_POLICY,
    ignore: Iterable[str] = (),
) -> dict[str, pl.DataFrame]:
    """The tables to count under ``policy``, given the validation ``report`` of those tables."""
    policy = Policy(policy)
    out = dict(tables)
    errors = report.filter((pl.col("type") == "error") & ~pl.col("rule").is_in(list(ignore)))
    if policy is Policy.COUNT or errors.is_empty():
        return out
    if policy is Policy.EXCLUDE_LAS:
        key, names = LA_KEY, ("headers", *census_tables.CHILD_TABLES)
        drop = errors.select(LA_KEY).unique()
    else:
        key, names = CHILD_KEY, census_tables.CHILD_TABLES
        drop = errors.filter(pl.col("LAchildID").is_not_null()).select(CHILD_KEY).unique()
    for name in names:
        if name in out:
            out[name] = out[name].join(drop, on=list(key), how="anti", nulls_equal=True)
    return out


def excluded_las(
    report: pl.DataFrame, policy: Policy | str = DEFAULT_POLICY, ignore: Iterable[str] = ()
) -> list[str]:
    """The LAs ``policy`` removes from counted data (only ``exclude_las`` removes whole LAs)."""
    if Policy(policy) is not Policy.EXCLUDE_LAS:
        return []
    errors = report.filter((pl.col("type") == "error") & ~pl.col("rule").is_in(list(ignore)))
    return errors["la_code"].drop_nulls().unique().sort().to_list()


# what each policy means for the published figures, in the words of the data guidance
POLICY_TEXT = {
    Policy.COUNT: "every counted return is counted in full; children failing a DfE validation rule are "
    "counted and flagged in the validation report, not removed",
    Policy.EXCLUDE_CHILDREN: "children with a DfE validation error are left out of every figure",
    Policy.EXCLUDE_LAS: "a local authority whose return has any validation error is left out: its figures are "
    "not available and England and regional figures count the other local authorities",
}
