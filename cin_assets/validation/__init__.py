"""DfE census validation rules, file-level checks, the report they produce and the counting policy.

Pure domain code (no Dagster): ``validate(tables, year)`` returns the report; ``apply_policy`` decides what
counted data does with failing returns; ``cin-validate`` (:mod:`cin_assets.validation.cli`) runs both from
the command line.
"""

from cin_assets.validation.engine import REPORT_SCHEMA, empty_report, summary, validate
from cin_assets.validation.policy import DEFAULT_POLICY, Policy, apply_policy
from cin_assets.validation.rule import Rule
from cin_assets.validation.rules import BY_CODE, RULES

__all__ = [
    "BY_CODE",
    "DEFAULT_POLICY",
    "REPORT_SCHEMA",
    "RULES",
    "Policy",
    "Rule",
    "apply_policy",
    "empty_report",
    "summary",
    "validate",
]
