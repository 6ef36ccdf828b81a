"""Every DfE validation rule, in DfE code order within each module."""

from __future__ import annotations

from cin_assets.validation.rule import Rule
from cin_assets.validation.rules import assessments, child, cpps, episodes, returns, section47

RULES: tuple[Rule, ...] = (
    *returns.RULES,
    *child.RULES,
    *episodes.RULES,
    *assessments.RULES,
    *section47.RULES,
    *cpps.RULES,
)
BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
if len(BY_CODE) != len(RULES):
    raise RuntimeError("two validation rules share a code")
