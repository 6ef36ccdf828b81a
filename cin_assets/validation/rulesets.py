"""The DfE rule set of each reporting year, as overlays on the year before.

The base is the set the project's rules were written for (2013-2020). Each later year lists only what changed
from its year on: rules added, rules changed (a new definition under the same code, or the same definition
whose year-dependent code lists changed, with a note saying what), rules retired, and rules moved between
error and query. ``ruleset(year)`` applies every overlay up to ``year``; its ``name`` (``cin2024_25``) and
``changes`` are recorded on each validated partition. Adding a year with no rule change needs no entry.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cache

from cin_assets.census import calendar
from cin_assets.census.tables import collection
from cin_assets.validation.rule import Rule, RuleType
from cin_assets.validation.rules import BY_CODE, RULES, assessments, child, cin_plans


@dataclass(frozen=True)
class Overlay:
    """What changed in one reporting year's rules, relative to the year before."""

    year: int
    added: tuple[Rule, ...] = ()
    changed: tuple[tuple[Rule, str], ...] = ()  # (definition from this year, what changed)
    retired: tuple[tuple[str, str], ...] = ()  # (code, why)
    retyped: tuple[tuple[str, RuleType], ...] = ()  # (code, new type): moved between error and query
    notes: tuple[str, ...] = field(default=())

    def lines(self) -> list[str]:
        out = [f"{r.code} added" for r in self.added]
        out += [f"{r.code} changed: {why}" for r, why in self.changed]
        out += [f"{code} retired: {why}" for code, why in self.retired]
        out += [f"{code} now a {kind}" for code, kind in self.retyped]
        return out + list(self.notes)


def _sex(code: str, message: str) -> tuple[Rule, str]:
    rule = BY_CODE[code]
    fields = tuple("Sex" if f == "GenderCurrent" else f for f in rule.fields)
    return dataclasses.replace(
        rule, fields=fields, message=message
    ), "Sex (M/F/U) replaces GenderCurrent (0/1/2/9)"


OVERLAYS: tuple[Overlay, ...] = (
    Overlay(2020, changed=((BY_CODE["1530"], "LA codes 838 and 839 (Dorset; BCP) accepted"),)),
    Overlay(
        2021,
        changed=((BY_CODE["8897Q"], "factors 18B, 18C, 19B, 19C (abuse split by who the abuser was) valid"),),
    ),
    Overlay(
        2022,
        added=tuple(cin_plans.RULES),
        changed=(
            (BY_CODE["2990"], "a CIN plan is activity on an RC8 episode"),
            (BY_CODE["8897Q"], "factor 24A (child criminal exploitation) valid"),
            (BY_CODE["1530"], "LA codes 940 and 941 (North and West Northamptonshire) accepted"),
        ),
        notes=("CINPlanDates joins CINdetails; the header Content block is dropped",),
    ),
    Overlay(
        2023,
        changed=(
            (BY_CODE["2990"], "RC9 (closed after assessment, referred to early help) counts as RC8"),
            (BY_CODE["8825Q"], "RC9 counts as RC8"),
            (BY_CODE["8873Q"], "RC9 accepted as well as RC8"),
            (BY_CODE["8640"], "RC9 valid"),
            (BY_CODE["8866"], "referral source 5D (LA services - early help) valid"),
        ),
    ),
    Overlay(
        2024,
        changed=((BY_CODE["1530"], "LA codes 942 and 943 (Cumberland; Westmorland and Furness) accepted"),),
    ),
    Overlay(
        2025,
        added=(child.RULES_2025["1570"], child.RULES_2025["1580"], *assessments.RULES_2025.values()),
        changed=(
            _sex("4180", "Sex is missing or invalid"),
            _sex("8750", "Sex must equal U for an unborn child"),
            _sex(
                "2886Q",
                "Please check and either amend or provide a reason: Percentage of children with no sex recorded is "
                "more than 2% (excluding unborns)",
            ),
            (child.RULES_2025["8770Q"], "school age (born by 31 August six years before) instead of aged 6+"),
        ),
    ),
)


@dataclass(frozen=True)
class RuleSet:
    """The rules of one reporting year and how they came to be."""

    year: int
    name: str  # e.g. "cin2024_25", the collection the set is for
    rules: tuple[Rule, ...]
    changes: tuple[tuple[int, str], ...]  # (year, change) of every overlay applied, oldest first

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.rules)


@cache
def ruleset(year: int) -> RuleSet:
    """The rule set of reporting ``year``: the base with every overlay up to ``year`` applied, in code order
    of the base (added rules after it, in the order they were added)."""
    if year not in calendar.REPORTING_YEARS:
        raise ValueError(
            f"no rule set for reporting year {year} ({calendar.FIRST_YEAR}-{calendar.LAST_YEAR})"
        )
    rules: dict[str, Rule] = {r.code: r for r in RULES}
    changes: list[tuple[int, str]] = []
    for overlay in OVERLAYS:
        if overlay.year > year:
            break
        for r in overlay.added:
            rules[r.code] = r
        for r, _ in overlay.changed:
            rules[r.code] = r
        for code, _ in overlay.retired:
            rules.pop(code)
        for code, kind in overlay.retyped:
            rules[code] = dataclasses.replace(rules[code], type=kind)
        changes += [(overlay.year, line) for line in overlay.lines()]
    return RuleSet(year, "cin" + collection(year).replace("-", "_"), tuple(rules.values()), tuple(changes))
